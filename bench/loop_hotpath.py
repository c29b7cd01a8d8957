"""Micro-benchmark of the shared hot path (issue #18): CPU ms per report, part by part, bounded.

Parts (each 2,000 messages or requests, process CPU time, not wall time):
- ``envelope``: build + encode a ``report.received`` envelope, then decode it and read its payload as a consumer
  does (``ReportReceived.model_validate(envelope.payload)``).
- ``logging``: one INFO line per report through the service's JSON formatter and redacting filter (to a null
  stream), and one DEBUG call with DEBUG off.
- ``relay``: the outbox relay moving 2,000 committed rows to the embedded bus (SQLite), in its batches.
- ``locate``: grid-registry's locate consumer (the runner's batch handler) on 10 batches of 200 messages, SQLite,
  demo grid set, the relay draining the located messages after each batch.
- ``intake_post``: a real event-intake (``python -m gridgov_event_intake``, uvicorn, 127.0.0.1, embedded stack,
  INFO logs to /dev/null) serving 2,000 POST /v1/reports/patrol from 8 client threads; the server process's CPU
  (utime + stime from /proc) per request, relay included.

Run:  uv run --frozen python bench/loop_hotpath.py [--label before|after] [--parts envelope,logging,...]
Results: merged into bench/results/loop_hotpath.json under the label.
"before" is the same script with the code of a worktree where the hot-path commits are reverted put first on the
path: ``git worktree add --detach W HEAD; git -C W revert --no-commit <commits>;
PYTHONPATH=W/libs/common/src:W/services/grid-registry/src:W/services/event-intake/src uv run --frozen python
bench/loop_hotpath.py --label before`` (the intake subprocess inherits the path). ``BENCH_PROFILE=file`` runs
intake under py-spy (raw format) for a profile; the CPU figure of that run is py-spy's, not intake's.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
N = 2000
SECRET = "bench-only-secret"
BODY = {"category_code": "01002", "description": "路边有暴露垃圾 bench", "lon": 113.75, "lat": 23.02}


def _received(lon: float = 113.7518, lat: float = 23.0207):
    from gridgov_common.bus.envelope import new_envelope
    from gridgov_common.events.reports import REPORT_RECEIVED, ReportReceived

    report_id = str(uuid.uuid4())
    payload = ReportReceived(report_id=report_id, channel="patrol", category_code="01002",
                             description="路边有暴露垃圾", lon=lon, lat=lat, reporter_id="gw-1",
                             reporter_role="grid_worker", submitted_at=datetime.now(UTC))
    return new_envelope(type=REPORT_RECEIVED, producer="event-intake", key=report_id, payload=payload,
                        correlation_id=report_id)


def bench_envelope() -> dict:
    """Encode and decode 2,000 report.received envelopes."""
    from gridgov_common.bus.envelope import Envelope
    from gridgov_common.events.reports import ReportReceived

    _received().to_bytes()  # warm-up (imports, schema build)
    start = time.process_time()
    raws = [_received().to_bytes() for _ in range(N)]
    encode = time.process_time() - start
    start = time.process_time()
    for raw in raws:
        ReportReceived.model_validate(Envelope.from_bytes(raw).payload)
    decode = time.process_time() - start
    return {"messages": N, "encode_ms_per_msg": round(encode * 1000 / N, 4),
            "decode_ms_per_msg": round(decode * 1000 / N, 4),
            "cpu_ms_per_report": round((encode + decode) * 1000 / N, 4)}


def bench_logging() -> dict:
    """One INFO line and one (disabled) DEBUG call per report through the JSON formatter and filter."""
    from gridgov_common.logs import JsonFormatter, PhoneMaskingFilter, correlation

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("bench"))
    handler.addFilter(PhoneMaskingFilter())
    log = logging.getLogger("bench.hotpath")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    ids = [str(uuid.uuid4()) for _ in range(N)]
    start = time.process_time()
    for rid in ids:
        with correlation(rid):
            log.info("report %s located: grid %s, town %s", rid, "441900001001001", "441900001")
            log.debug("report %s staged", rid)
    cpu = time.process_time() - start
    lines = stream.getvalue().splitlines()
    assert len(lines) == N and all(json.loads(line)["correlation_id"] for line in lines[:5])
    return {"lines": N, "cpu_ms_per_report": round(cpu * 1000 / N, 4)}


def bench_relay() -> dict:
    """The relay moving 2,000 committed outbox rows to the embedded bus."""
    from sqlalchemy import MetaData

    from gridgov_common.bus.embedded import EmbeddedBus
    from gridgov_common.db import Database, OutboxRelay
    from gridgov_common.migrations import upgrade_to_head  # noqa: F401 - same import cost as a service

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/svc.db", MetaData(), "bench")
        db.create_all()
        bus = EmbeddedBus(Path(tmp) / "bus.db")
        bus.ensure_topics(["gridgov.reports.received"], 4)
        envelopes = [_received() for _ in range(N)]
        with db.session() as session:
            for envelope in envelopes:
                db.add_outbox(session, "gridgov.reports.received", envelope)
            session.commit()
        relay = OutboxRelay(db, bus)
        start = time.process_time()
        moved = 0
        while moved < N:
            moved += relay.relay_once()
        cpu = time.process_time() - start
        db.engine.dispose()
        bus.close()
    return {"rows": N, "batch": OutboxRelay.BATCH, "cpu_ms_per_report": round(cpu * 1000 / N, 4)}


def bench_locate() -> dict:
    """grid-registry's locate consumer on 10 batches of 200 report.received, relay drained after each."""
    from fastapi.testclient import TestClient

    from gridgov_common.settings import CommonSettings
    from gridgov_grid_registry.app import create_app
    from gridgov_grid_registry.settings import RegistrySettings

    logging.disable(logging.NOTSET)
    with tempfile.TemporaryDirectory() as tmp:
        settings = RegistrySettings(common=CommonSettings(data_dir=Path(tmp), jwt_secret=SECRET, log_json=True),
                                    database_url=None, announce_grids=False)
        with TestClient(create_app(settings)) as client:
            runtime = client.app.state.runtime
            logging.getLogger().handlers[0].stream = open(os.devnull, "w")  # noqa: SIM115 - INFO lines as in prod
            handler = runtime.consumers[0].handler
            batches = [[_received(113.70 + 0.0001 * i, 23.02) for i in range(200)] for _ in range(N // 200)]
            handler([_received()])  # warm-up: gazetteer, statement cache
            runtime.relay.drain()
            start = time.process_time()
            for batch in batches:
                handler(batch)
                runtime.relay.drain()
            cpu = time.process_time() - start
    return {"messages": N, "batch": 200, "cpu_ms_per_report": round(cpu * 1000 / N, 4),
            "note": "process CPU: handler + relay; the idle consumer and watcher threads are included"}


def _proc_cpu(pid: int) -> float:
    """utime + stime of a process, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_intake_post(port: int = 9137) -> dict:
    """A real event-intake serving 2,000 patrol reports; server CPU per request."""
    import socket

    from gridgov_common.auth import mint_token

    with socket.socket() as probe:  # a server left on the port would answer instead of ours
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME-WAIT is no server
        probe.bind(("127.0.0.1", port))
    token = mint_token(SECRET, sub="bench", role="grid_worker", grid="441900001001001")
    headers = {"Authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "GRIDGOV_DATA_DIR": data_dir, "GRIDGOV_JWT_SECRET": SECRET,
               "GRIDGOV_INTAKE_PORT": str(port), "GRIDGOV_INTAKE_HOST": "127.0.0.1", "GRIDGOV_LOG_LEVEL": "INFO"}
        with open(os.devnull, "w") as null:
            command = [sys.executable, "-m", "gridgov_event_intake"]
            if os.environ.get("BENCH_PROFILE"):  # py-spy profile of the server; the CPU figure is then py-spy's
                command = ["py-spy", "record", "-r", "200", "-f", "raw", "-o", os.environ["BENCH_PROFILE"], "--",
                           *command]
            proc = subprocess.Popen(command, env=env, stdout=null, stderr=null, start_new_session=True)
            try:
                base = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 120
                while True:
                    try:
                        if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError("intake did not start")
                    time.sleep(0.3)
                local = threading.local()

                def post(_: int) -> int:
                    client = getattr(local, "client", None)
                    if client is None:
                        client = local.client = httpx.Client(base_url=base, headers=headers, timeout=30)
                    return client.post("/v1/reports/patrol", json=BODY).status_code

                with ThreadPoolExecutor(8) as pool:
                    warm = list(pool.map(post, range(200)))
                    time.sleep(1.0)  # the relay publishes the warm-up's rows
                    before, wall = _proc_cpu(proc.pid), time.monotonic()
                    codes = list(pool.map(post, range(N)))
                    wall = time.monotonic() - wall
                    deadline = time.monotonic() + 10
                    with closing(sqlite3.connect(f"{data_dir}/event-intake.db")) as conn:
                        while conn.execute("SELECT count(*) FROM outbox").fetchone()[0] and \
                                time.monotonic() < deadline:
                            time.sleep(0.05)
                    cpu = _proc_cpu(proc.pid) - before
            finally:
                os.killpg(proc.pid, signal.SIGINT)  # py-spy writes its profile on SIGINT; uvicorn stops on it too
                proc.wait(timeout=60)
                time.sleep(2.0)  # py-spy's child (the server) stops on the same SIGINT, sent to the group
    bad = sum(1 for c in codes + warm if c != 202)
    return {"requests": N, "client_threads": 8, "non_202": bad, "cpu_ms_per_report": round(cpu * 1000 / N, 4),
            "wall_s": round(wall, 2), "requests_per_s_wall": round(N / wall, 1),
            "loadavg": Path("/proc/loadavg").read_text().split()[:3]}


PARTS = {"envelope": bench_envelope, "logging": bench_logging, "relay": bench_relay, "locate": bench_locate,
         "intake_post": bench_intake_post}


def main() -> int:
    """Run the parts asked for and merge the figures into the results file under the label."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="after")
    parser.add_argument("--parts", default=",".join(PARTS))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    out = ROOT / "bench" / "results" / "loop_hotpath.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    run = results.setdefault(args.label, {})
    for name in args.parts.split(","):
        load = Path("/proc/loadavg").read_text().split()[:3]
        figures = PARTS[name]()
        figures["loadavg_at_start"] = load
        figures["at"] = datetime.now(UTC).isoformat(timespec="seconds")
        run[name] = figures
        print(name, json.dumps(figures), flush=True)
        results["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count()}
        # Written after each part: a failing part keeps the figures of the others.
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
