"""Benchmark: sensing's alarm replay (issue #16) — ingest + dedupe + suppression, on the embedded stack and on
Kafka + PostgreSQL, with the bus alone as a baseline in the same run.

Per stack: (1) grid-registry and sensing start (no dispatch: the cases the replay opens wait on the bus, so the
figure is sensing's own work); the devices are placed by ``gridgov sensing devices generate`` (deterministic, seed
16), then grid-registry stops (it would otherwise locate every case's report during the run); (2) the replay of
``bench/sensing_alarms_gen.py`` (Zipf repeats, same-fingerprint pairs < 5 ms apart on different producers) is
posted by 8 producer threads through ``POST /v1/alarms`` in batches; (3) we wait until the grouping consumer has
stored every alarm, then check: at most one open group and at most one case per fingerprint, every (device, type)
counted exactly as ``expected_counts()`` says, every alarm grouped, the cases' reports on the bus once each;
(4) the baseline: the same ``alarm.received`` envelopes (read back from the bus) published again by 8 threads to a
topic of the same bus and consumed by the services' own consumer loop (``ConsumerRunner``) with a handler that does
nothing. Throughout, the sensing process's RSS and CPU are sampled from /proc, and the load average is recorded.
``--split both|consumer|api`` runs sensing as the manifests deploy it: the first process serves the API
(``RUN_CONSUMERS=false``), a second runs the consumers; the producers post to the first; ``both``: each relays the
outbox (one at a time, by its lock), ``consumer``: only the second, ``api``: only the first. CPU is summed over
both, RSS is the first's.
The latency scenario (``--latency-seconds``, on a second stack with every service): 1,000 alarms/s of which 2 %
open new ``auto`` cases, the rest repeats of open groups; alarm → dispatched ticket from sensing's first_seen to
dispatch's ``dispatch`` transition. ``--profile`` (embedded) runs ingest and grouping in this process under
cProfile on a copy of the run's sensing database and prints the top functions.

Run:  uv run --frozen python bench/sensing_alarms.py [--stacks embedded,distributed] [--alarms 100000]
      [--devices 50000] [--batch 2000] [--replicas 2 | --split both|consumer] [--latency-seconds 20] [--profile]
(distributed needs GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS and GRIDGOV_TEST_PG_ADMIN_URL). Every wait is bounded.
Results: bench/results/sensing_alarms.json (``--out`` to write elsewhere).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sensing_alarms_gen import expected_counts, replay  # noqa: E402
from gridgov_common.bus.envelope import Envelope  # noqa: E402
from gridgov_common.bus.interface import OutgoingMessage, open_bus  # noqa: E402
from gridgov_common.bus.runner import ConsumerRunner  # noqa: E402
from gridgov_common.bus.topics import ALARMS_RECEIVED, REPORTS_RECEIVED  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sensing_alarms.json"
BASELINE_TOPIC = "bench.alarms.baseline"
BASELINE_MAX = 200_000  # envelopes kept in memory for the baseline (a 1 M replay uses its first 200,000)
PUBLISH_BATCH = 500  # the outbox relay's batch
TICK = os.sysconf("SC_CLK_TCK")


# --- the machine and the processes -------------------------------------------------------------------------------


def load_average() -> list[float]:
    """The 1/5/15-minute load averages (other work shares these 2 cores)."""
    return [round(x, 2) for x in os.getloadavg()]


def rss_mb(pid: int) -> float:
    """Resident set of a process now, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024


def peak_rss_mb(pid: int) -> float:
    """Peak resident set (VmHWM) of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def infra_cpu_s() -> float:
    """CPU seconds used so far by the PostgreSQL and Kafka (java) processes of this machine."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() in ("postgres", "java"):
                total += cpu_s(int(proc.name))
        except (OSError, ValueError):
            continue
    return total


class Sampler(threading.Thread):
    """Samples a process's RSS every ``interval`` seconds until stopped (bounded by ``max_samples``)."""

    def __init__(self, pid: int, interval: float = 0.25, max_samples: int = 20_000):
        super().__init__(daemon=True)
        self.pid, self.interval, self.max_samples = pid, interval, max_samples
        self.samples: list[float] = []
        self._halt = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._halt.is_set() and len(self.samples) < self.max_samples:
            try:
                self.samples.append(rss_mb(self.pid))
            except (OSError, StopIteration):
                return
            self._halt.wait(self.interval)

    def stop(self) -> dict:
        """Stop and summarise (MB)."""
        self._halt.set()
        self.join(5)
        s = self.samples or [0.0]
        return {"samples": len(self.samples), "start_mb": round(s[0], 1), "median_mb": round(statistics.median(s), 1),
                "max_mb": round(max(s), 1), "end_mb": round(s[-1], 1)}


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# --- the stack ---------------------------------------------------------------------------------------------------


def db_url(stack: Stack, service: str, prefix: str) -> str:
    """The SQLAlchemy URL of a service's database on this stack."""
    if stack.kind == "distributed":
        return stack.env[f"{prefix}DATABASE_URL"]
    return f"sqlite:///{stack.data_dir / (service + '.db')}"


def stack_bus(stack: Stack):
    """The stack's bus, opened in this process (same namespace as the services)."""
    if stack.kind == "distributed":
        return open_bus(f"kafka://{stack.env['GRIDGOV_KAFKA_BOOTSTRAP_SERVERS']}", client_id="bench",
                        namespace=stack.env["GRIDGOV_TOPIC_NAMESPACE"])
    return open_bus(f"sqlite:///{stack.data_dir / 'bus.db'}")


def register_devices(stack: Stack, count: int, seed: int) -> float:
    """Place ``count`` devices with the CLI's generator (sensing's database, grids from grid-registry); seconds."""
    started = time.monotonic()
    gridgov = Path(sys.executable).parent / "gridgov"
    cmd = [str(gridgov), "sensing", "devices", "generate", "--count", str(count), "--seed", str(seed), "--quiet",
           "--registry-url", stack.url("grid-registry")]
    out = subprocess.run(cmd, env=stack.env, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"device generation failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    print(f"  {out.stdout.strip()}", flush=True)
    return time.monotonic() - started


def load_devices(engine) -> list[SimpleNamespace]:
    """The registered devices as the replay reads them (id, kind, algorithms), in id order."""
    with engine.connect() as c:
        rows = c.execute(text("SELECT device_id, kind, algorithms FROM device ORDER BY device_id")).all()
    out = []
    for device_id, kind, algorithms in rows:
        if isinstance(algorithms, str):
            algorithms = json.loads(algorithms)
        out.append(SimpleNamespace(device_id=device_id, kind=kind, algorithms=tuple(algorithms or ())))
    return out


# --- producers ---------------------------------------------------------------------------------------------------


def encode_batches(alarms, start: datetime, producers: int, batch: int) -> list[list[tuple[int, bytes]]]:
    """Per producer, its alarms in send order as pre-encoded ``POST /v1/alarms`` bodies (count, body)."""
    per: list[list] = [[] for _ in range(producers)]
    for a in alarms:
        per[a.producer % producers].append(a.payload(start))
    return [[(len(p[i:i + batch]), json.dumps({"alarms": p[i:i + batch]}).encode())
             for i in range(0, len(p), batch)] for p in per]


def post_all(urls: list[str], headers: dict, bodies: list[list[tuple[int, bytes]]], timeout_s: float) -> dict:
    """Each producer thread posts its bodies in order (producer i to ``urls[i % len(urls)]``, as a Service spreads
    connections over replicas); the figures of the whole replay."""
    lock = threading.Lock()
    accepted = [0]
    failures: list[str] = []
    request_s: list[float] = []
    deadline = time.monotonic() + timeout_s

    def producer(url: str, mine: list[tuple[int, bytes]]) -> None:
        with httpx.Client(timeout=120, headers={**headers, "Content-Type": "application/json"}) as client:
            for n, body in mine:
                if time.monotonic() > deadline:
                    with lock:
                        failures.append("deadline: producer stopped")
                    return
                t0 = time.monotonic()
                try:
                    r = client.post(f"{url}/v1/alarms", content=body)
                    ok, why = r.status_code == 202, f"{r.status_code} {r.text[:300]}"
                except httpx.HTTPError as exc:
                    ok, why = False, f"{type(exc).__name__}: {exc}"
                with lock:
                    request_s.append(time.monotonic() - t0)
                    if ok:
                        accepted[0] += n
                    elif len(failures) < 20:
                        failures.append(why)

    threads = [threading.Thread(target=producer, args=(urls[i % len(urls)], b)) for i, b in enumerate(bodies)]
    t_start, w_start = time.monotonic(), time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t_start
    return {"accepted": accepted[0], "seconds": took, "wall_start": w_start, "failures": failures,
            "requests": len(request_s), "request_p50_ms": round(statistics.median(request_s) * 1000, 1),
            "request_p99_ms": round(percentile(request_s, 0.99) * 1000, 1)}


# --- checks ------------------------------------------------------------------------------------------------------


def _epoch(value) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def wait_drained(engine, expected: int, timeout_s: float) -> tuple[float, int]:
    """Wait until the grouping consumer has stored ``expected`` alarms; (epoch of the last one stored, stored)."""
    deadline = time.monotonic() + timeout_s
    stored = 0
    while time.monotonic() < deadline:
        with engine.connect() as c:
            stored = c.execute(text("SELECT count(*) FROM alarm")).scalar_one()
        if stored >= expected:
            break
        time.sleep(0.5)
    with engine.connect() as c:
        last = c.execute(text("SELECT max(received_at) FROM alarm")).scalar_one()
    return (_epoch(last) if last is not None else float("nan")), stored


def check_groups(engine, alarms) -> dict:
    """One open group and one case per fingerprint, exact counts per (device, type), every alarm grouped."""
    expected = expected_counts(alarms)
    with engine.connect() as c:
        dup_open = c.execute(text("SELECT count(*) FROM (SELECT fingerprint FROM alarm_group WHERE is_open "
                                  "GROUP BY fingerprint HAVING count(*) > 1) d")).scalar_one()
        dup_cases = c.execute(text("SELECT count(*) FROM (SELECT fingerprint FROM alarm_group WHERE report_id IS NOT "
                                   "NULL GROUP BY fingerprint HAVING count(*) > 1) d")).scalar_one()
        groups = c.execute(text("SELECT device_id, alarm_type, count(*), sum(count) FROM alarm_group "
                                "GROUP BY device_id, alarm_type")).all()
        states = dict(c.execute(text("SELECT state, count(*) FROM alarm_group GROUP BY state")).all())
        verdicts = dict(c.execute(text("SELECT verdict, count(*) FROM alarm GROUP BY verdict")).all())
        cases = c.execute(text("SELECT count(*) FROM alarm_group WHERE report_id IS NOT NULL")).scalar_one()
        tasks = c.execute(text("SELECT count(*) FROM verification_task")).scalar_one()
    counted = {(d, t): (n_groups, int(total)) for d, t, n_groups, total in groups}
    wrong = [(k, expected[k], counted.get(k, (0, 0))[1]) for k in expected if counted.get(k, (0, 0))[1] != expected[k]]
    extra = [k for k in counted if k not in expected]
    split = sum(1 for n_groups, _ in counted.values() if n_groups > 1)
    return {"fingerprints_expected": len(expected), "groups": sum(n for n, _ in counted.values()),
            "duplicate_open_groups": dup_open, "duplicate_cases": dup_cases, "fingerprints_split": split,
            "count_mismatches": len(wrong) + len(extra),
            "count_mismatch_examples": [list(map(str, w)) for w in wrong[:5]],
            "alarms_counted": sum(t for _, t in counted.values()), "group_states": states,
            "alarm_verdicts": verdicts,
            "cases": cases, "verification_tasks": tasks,
            "exact": dup_open == 0 and dup_cases == 0 and not wrong and not extra}


def read_topic(bus, group: str, topic: str, limit: int, timeout_s: float, idle_s: float = 5.0) -> list[bytes]:
    """Up to ``limit`` message values of a topic from its start (a fresh group); stops once idle for ``idle_s``
    after the first record (a Kafka group takes a few seconds to be assigned: up to 60 s before the first)."""
    consumer = bus.consumer(group, [topic])
    values: list[bytes] = []
    started = time.monotonic()
    deadline, last_seen = started + timeout_s, None
    try:
        while len(values) < limit and time.monotonic() < deadline:
            records = consumer.poll(timeout=0.5, max_records=2000)
            now = time.monotonic()
            if records:
                values.extend(r.value for r in records)
                last_seen = now
            elif (last_seen is not None and now - last_seen > idle_s) or (last_seen is None and now - started > 60):
                break
    finally:
        consumer.close()
    return values[:limit]


def check_reports(bus, cases: int, timeout_s: float) -> dict:
    """The cases' ``report.received`` messages on the bus: one report per case, no report under two envelopes (a
    redelivery repeats an envelope id; a second envelope for one report would be a second case)."""
    values = read_topic(bus, "bench.reports-check", REPORTS_RECEIVED, cases * 2 + 1000, timeout_s)
    envelopes = {}
    for v in values:
        e = Envelope.from_bytes(v)
        envelopes[str(e.id)] = e.payload.get("report_id")
    per_report = Counter(envelopes.values())
    return {"report_messages": len(values), "distinct_envelopes": len(envelopes), "distinct_reports": len(per_report),
            "reports_under_two_envelopes": sum(1 for n in per_report.values() if n > 1), "cases_in_sensing": cases}


# --- the raw baseline --------------------------------------------------------------------------------------------


def baseline(bus, values: list[bytes], producers: int, partitions: int, timeout_s: float) -> dict:
    """The same envelopes through the bus alone: 8 threads publish them (batches of the relay's size) to a topic of
    the same bus, the services' consumer loop reads, decodes and commits them with a handler that does nothing."""
    bus.ensure_topics([BASELINE_TOPIC, BASELINE_TOPIC + ".dlq"], partitions)
    seen = [0]
    done = threading.Event()
    lock = threading.Lock()

    def nothing(envelopes: list[Envelope]) -> None:
        with lock:
            seen[0] += len(envelopes)
            if seen[0] >= len(values):
                done.set()

    runner = ConsumerRunner(bus, "bench.baseline", [BASELINE_TOPIC], nothing)
    runner.start()
    runner.ready.wait(60)
    keyed = []
    for v in values:
        keyed.append(OutgoingMessage(BASELINE_TOPIC, json.loads(v)["key"] or "", v))
    chunks = [keyed[i::producers] for i in range(producers)]

    def publish(mine: list[OutgoingMessage]) -> None:
        for i in range(0, len(mine), PUBLISH_BATCH):
            bus.publish(mine[i:i + PUBLISH_BATCH])

    t0 = time.monotonic()
    threads = [threading.Thread(target=publish, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    published = time.monotonic() - t0
    done.wait(timeout_s)
    took = time.monotonic() - t0
    runner.stop()
    runner.join(10)
    return {"messages": len(values), "consumed": seen[0], "publish_s": round(published, 2),
            "seconds": round(took, 2), "publish_per_s": round(len(values) / published),
            "end_to_end_per_s": round(seen[0] / took)}


# --- the throughput run ------------------------------------------------------------------------------------------


def split_env(split: str | None, api: bool) -> dict[str, str]:
    """Settings of the API (``api``) or the consumer process of a split sensing: which of them relays the outbox
    (``both``: each, one at a time by the outbox lock, as the manifests deploy; ``consumer``: only the consumer;
    ``api``: only the API)."""
    if not split:
        return {}
    relays = split == "both" or (split == "api") == api
    return {"GRIDGOV_SENSING_RUN_CONSUMERS": "false" if api else "true",
            "GRIDGOV_SENSING_RUN_RELAY": "true" if relays else "false"}


def run_throughput(kind: str, args) -> dict:
    """Replay, drain, check, baseline on one stack."""
    with tempfile.TemporaryDirectory() as tmp:
        # --split: this sensing process serves the API and relays its outbox; the consumers run in a second one
        stack = Stack(kind, Path(tmp), extra_env=split_env(args.split, api=True))
        stack.start(["grid-registry", "sensing"], timeout=180)
        try:
            out = throughput_on(stack, args)
            if args.profile and kind == "embedded":
                stack.stop()
                out["profile"] = profile_embedded(Path(tmp), args)
            return out
        finally:
            stack.close()


def throughput_on(stack: Stack, args) -> dict:
    """The throughput measurements on a started stack."""
    kind = stack.kind
    engine = create_engine(db_url(stack, "sensing", "GRIDGOV_SENSING_"))
    reg_s = register_devices(stack, args.devices, args.seed)
    stack.kill(["grid-registry"])  # it would locate every case's report while we measure sensing
    devices = load_devices(engine)
    start = datetime.now(UTC)
    t0 = time.perf_counter()
    alarms = list(replay(devices, start=start, count=args.alarms, seed=args.seed, producers=args.producers))
    bodies = encode_batches(alarms, start, args.producers, args.batch)
    prep_s = time.perf_counter() - t0
    print(f"[{kind}] {len(devices):,} devices in {reg_s:.1f} s; {len(alarms):,} alarms, "
          f"{len(expected_counts(alarms)):,} fingerprints, {sum(a.paired for a in alarms):,} racing pairs "
          f"(prepared in {prep_s:.1f} s)", flush=True)

    urls, pids = [stack.url("sensing")], [stack.procs["sensing"].pid]
    if args.replicas == 2:  # a second sensing process: same database and consumer group (the -consumer Deployment
        # scaled to two, the API behind one Service); the group's partitions are shared between the two members
        urls.append(stack.start_extra("sensing", {"GRIDGOV_SENSING_MQTT_CLIENT_ID": "gridgov-sensing-2"}))
        pids.append(stack.extra.pid)
        time.sleep(3)  # the embedded bus rebalances each second; let both members own partitions before the load
    elif args.split:  # the -api and -consumer Deployments, one replica each: the posts go to the API only
        stack.start_extra("sensing", {**split_env(args.split, api=False),
                                      "GRIDGOV_SENSING_MQTT_CLIENT_ID": "gridgov-sensing-consumer"})
        pids.append(stack.extra.pid)
        time.sleep(3)  # the consumer group's first assignment before the load
    pid = pids[0]
    sampler = Sampler(pid)
    sampler.start()
    load_before, cpus_before, infra_before = load_average(), [cpu_s(p) for p in pids], infra_cpu_s()
    cpu_before = sum(cpus_before)
    posted = post_all(urls, stack.auth(sub="bench-vms", role="device_gateway"), bodies, args.timeout)
    print(f"[{kind}] ingest: {posted['accepted']:,} accepted in {posted['seconds']:.1f} s "
          f"({posted['accepted'] / posted['seconds']:,.0f}/s); failures {posted['failures'][:3]}", flush=True)
    last_stored, stored = wait_drained(engine, posted["accepted"], args.timeout)
    cpus_after, infra_after, load_after = [cpu_s(p) for p in pids], infra_cpu_s(), load_average()
    cpu_after = sum(cpus_after)
    rss = sampler.stop()
    rss["peak_vmhwm_mb"] = round(peak_rss_mb(pid), 1)
    e2e_s = last_stored - posted["wall_start"]
    print(f"[{kind}] grouped: {stored:,} in {e2e_s:.1f} s ({stored / e2e_s:,.0f}/s); RSS {rss}", flush=True)
    checks = check_groups(engine, alarms)
    print(f"[{kind}] checks: {checks}", flush=True)
    bus = stack_bus(stack)
    checks["bus"] = check_reports(bus, checks["cases"], args.timeout)
    print(f"[{kind}] reports on the bus: {checks['bus']}", flush=True)

    values = read_topic(bus, "bench.baseline-reader", ALARMS_RECEIVED, min(stored, BASELINE_MAX), args.timeout)
    partitions = int(stack.env.get("GRIDGOV_TOPIC_PARTITIONS", "4"))  # the services' topic_partitions
    base = baseline(bus, values, args.producers, partitions, args.timeout)
    bus.close()
    engine.dispose()
    e2e_rate = stored / e2e_s
    result = {
        "devices": len(devices), "device_generation_s": round(reg_s, 1), "alarms": len(alarms),
        "fingerprints": checks["fingerprints_expected"], "racing_pairs": sum(a.paired for a in alarms),
        "producers": args.producers, "batch": args.batch, "sensing_processes": len(pids),
        "sensing_split": f"api + consumer processes, relay in {args.split}" if args.split else None,
        "ingest": {"accepted": posted["accepted"], "seconds": round(posted["seconds"], 2),
                   "alarms_per_s": round(posted["accepted"] / posted["seconds"]),
                   "requests": posted["requests"], "request_p50_ms": posted["request_p50_ms"],
                   "request_p99_ms": posted["request_p99_ms"], "failures": posted["failures"]},
        "end_to_end": {"grouped": stored, "seconds": round(e2e_s, 2), "alarms_per_s": round(e2e_rate)},
        "baseline_bus_alone": base,
        "ratio_end_to_end_to_baseline": round(e2e_rate / base["end_to_end_per_s"], 3)
        if base["end_to_end_per_s"] else None,
        "checks": checks,
        "sensing_rss": rss,
        "sensing_cpu_ms_per_alarm": round((cpu_after - cpu_before) * 1000 / max(stored, 1), 3),
        # each process's share (the API's first): which of a split's two is the one that bounds it
        "sensing_cpu_ms_per_alarm_by_process": [round((a - b) * 1000 / max(stored, 1), 3)
                                                for a, b in zip(cpus_after, cpus_before, strict=True)],
        "load_average_before": load_before, "load_average_after": load_after,
    }
    if kind == "distributed":
        result["postgres_kafka_cpu_ms_per_alarm"] = round((infra_after - infra_before) * 1000 / max(stored, 1), 3)
    print(f"[{kind}] baseline {base}; ratio {result['ratio_end_to_end_to_baseline']}", flush=True)
    return result


# --- latency -----------------------------------------------------------------------------------------------------


AUTO_TYPES = ("street_vending", "exposed_garbage", "illegal_parking", "fire_lane_blocked", "manhole_displaced",
              "water_level", "gas_concentration")


def run_latency(kind: str, args) -> dict:
    """Alarm → dispatched ticket at a fixed rate with a share of new cases, on a stack with every service."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(kind, Path(tmp))
        stack.start(timeout=240)
        try:
            return latency_on(stack, args)
        finally:
            stack.close()


def latency_on(stack: Stack, args) -> dict:
    """The latency scenario on a started stack."""
    sensing = create_engine(db_url(stack, "sensing", "GRIDGOV_SENSING_"))
    dispatch = create_engine(db_url(stack, "dispatch", "GRIDGOV_DISPATCH_"))
    register_devices(stack, args.latency_devices, args.seed)
    devices = load_devices(sensing)
    pairs = [(d.device_id, t) for d in devices for t in d.algorithms]
    auto = [p for p in pairs if p[1] in AUTO_TYPES]
    rate, seconds, share = args.latency_rate, args.latency_seconds, args.case_share
    ticks_per_s = 10
    per_tick = int(rate / ticks_per_s)
    new_per_tick = max(1, round(per_tick * share))
    needed = new_per_tick * ticks_per_s * seconds
    if len(auto) < needed + 1:
        raise RuntimeError(f"only {len(auto)} auto pairs for {needed} new cases: raise --latency-devices")
    fresh_pairs = set(auto[:needed])
    repeat_pool = [p for p in pairs if p not in fresh_pairs][:500]
    fresh = iter(auto[:needed])
    headers = {**stack.auth(sub="bench-vms", role="device_gateway"), "Content-Type": "application/json"}
    url = f"{stack.url('sensing')}/v1/alarms"
    serial = [0]

    def alarm(device_id: str, alarm_type: str) -> dict:
        serial[0] += 1
        return {"alarm_id": f"lat-{stack.run_id}-{serial[0]}", "device_id": device_id, "alarm_type": alarm_type,
                "occurred_at": datetime.now(UTC).isoformat(), "confidence": 0.95}

    with httpx.Client(timeout=30, headers=headers) as client:
        # Warm-up: open the repeat pool's groups, and let dispatch take their cases, before the clock runs.
        r = client.post(url, content=json.dumps({"alarms": [alarm(*p) for p in repeat_pool]}))
        r.raise_for_status()
        wait_drained(sensing, len(repeat_pool), 120)
        time.sleep(5)
        since = time.time()
        failures: list[str] = []
        lock = threading.Lock()
        sem = threading.Semaphore(args.producers)

        def send(body: bytes) -> None:
            try:
                resp = client.post(url, content=body)
                if resp.status_code != 202:
                    with lock:
                        failures.append(f"{resp.status_code} {resp.text[:200]}")
            except httpx.HTTPError as exc:
                with lock:
                    failures.append(str(exc))
            finally:
                sem.release()

        pid = stack.procs["sensing"].pid
        sampler = Sampler(pid)
        sampler.start()
        t0 = time.monotonic()
        senders = []
        for tick in range(ticks_per_s * seconds):
            delay = t0 + tick / ticks_per_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            batch = [alarm(*next(fresh)) for _ in range(new_per_tick)]
            batch += [alarm(*repeat_pool[(tick * per_tick + i) % len(repeat_pool)])
                      for i in range(per_tick - new_per_tick)]
            if not sem.acquire(timeout=30):
                failures.append("producers saturated")
                continue
            th = threading.Thread(target=send, args=(json.dumps({"alarms": batch}).encode(),))
            th.start()
            senders.append(th)
        for th in senders:
            th.join(30)
        sent_s = time.monotonic() - t0
    # Every alarm grouped first (sensing may lag behind the rate), then every new case dispatched.
    wait_drained(sensing, serial[0], args.timeout if not failures else 60)  # every alarm made was posted
    rss = sampler.stop()
    # The new cases: groups opened after ``since`` with a report; their first alarm's time → the dispatch.
    deadline = time.monotonic() + args.timeout
    while True:
        with sensing.connect() as c:
            opened = {rid: _epoch(fs) for rid, fs in c.execute(text(
                "SELECT report_id, first_seen FROM alarm_group WHERE report_id IS NOT NULL")).all()}
        opened = {k: v for k, v in opened.items() if v >= since}
        with dispatch.connect() as c:
            rows = c.execute(text("SELECT t.report_id, min(tt.at) FROM ticket t JOIN ticket_transition tt "
                                  "ON tt.ticket_id = t.id WHERE tt.action = 'dispatch' GROUP BY t.report_id")).all()
        dispatched = {rid: _epoch(at) for rid, at in rows}
        missing = [r for r in opened if r not in dispatched]
        if (opened and not missing) or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    lat_ms = [(dispatched[r] - opened[r]) * 1000 for r in opened if r in dispatched]
    result = {"rate_per_s": rate, "seconds": seconds, "sent_s": round(sent_s, 1), "case_share": share,
              "new_cases": len(opened), "dispatched": len(lat_ms), "not_dispatched": len(missing),
              "failures": failures[:10], "sensing_rss": rss, "load_average_after": load_average()}
    if lat_ms:
        result.update(p50_ms=round(statistics.median(lat_ms), 1), p99_ms=round(percentile(lat_ms, 0.99), 1),
                      max_ms=round(max(lat_ms), 1))
    print(f"[{stack.kind}] latency: {result}", flush=True)
    sensing.dispose()
    dispatch.dispose()
    return result


# --- profile (embedded) ------------------------------------------------------------------------------------------


def profile_embedded(data_dir: Path, args) -> dict:
    """Ingest and grouping in this process under cProfile, on a copy of the run's sensing database emptied of
    alarms: where a batch's time goes (the services' code, not the HTTP server or the bus)."""
    from gridgov_common.db import Database
    from gridgov_sensing.alarms.consumers import ALARMS
    from gridgov_sensing.alarms.handlers import grouping_context
    from gridgov_sensing.alarms.schemas import AlarmBatch
    from gridgov_sensing.alarms.service import accept_alarms
    from gridgov_sensing.tables import metadata

    work = Path(tempfile.mkdtemp(prefix="sensing-profile-"))
    try:
        src, dst = sqlite3.connect(data_dir / "sensing.db"), sqlite3.connect(work / "sensing.db")
        src.backup(dst)
        src.close()
        for table in ("alarm", "alarm_group", "verification_task", "outbox", "handled_message"):
            try:
                dst.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            except sqlite3.OperationalError:
                pass
        dst.commit()
        dst.close()
        db = Database(f"sqlite:///{work / 'sensing.db'}", metadata, "sensing")
        engine = create_engine(f"sqlite:///{work / 'sensing.db'}")
        devices = load_devices(engine)
        start = datetime.now(UTC)
        alarms = list(replay(devices, start=start, count=args.profile_alarms, seed=args.seed + 1))
        bodies = [json.dumps({"alarms": [a.payload(start) for a in alarms[i:i + args.batch]]}).encode()
                  for i in range(0, len(alarms), args.batch)]
        out: dict = {"alarms": len(alarms)}

        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for body in bodies:
            batch = AlarmBatch.model_validate_json(body)
            accept_alarms(db, batch.alarms, "http", datetime.now(UTC))
        prof.disable()
        out["ingest_s"] = round(time.perf_counter() - t0, 2)
        out["ingest_top"] = _top(prof)
        out["ingest_top_own"] = _top(prof, key=2)

        with db.engine.connect() as c:
            values = [bytes(v) for (v,) in c.execute(text(
                f"SELECT value FROM {db.tables.outbox.name} WHERE topic = :t ORDER BY id"), {"t": ALARMS_RECEIVED})]
        envelopes = [Envelope.from_bytes(v) for v in values]
        handle = db.idempotent_batch(ALARMS.group, lambda s, e: ALARMS.handlers_of(e.type)[0](ctx, s, e))
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for i in range(0, len(envelopes), 200):  # the runner's poll size
            ctx = grouping_context(db, 600)
            handle(envelopes[i:i + 200])
        prof.disable()
        out["grouping_s"] = round(time.perf_counter() - t0, 2)
        out["grouping_per_s"] = round(len(envelopes) / out["grouping_s"]) if out["grouping_s"] else None
        out["ingest_per_s"] = round(len(alarms) / out["ingest_s"]) if out["ingest_s"] else None
        out["grouping_top"] = _top(prof)
        out["grouping_top_own"] = _top(prof, key=2)
        executed = sum(v[1] for k, v in pstats.Stats(prof).stats.items() if k[2] == "_execute_context")
        out["grouping_statements_per_alarm"] = round(executed / max(len(envelopes), 1), 2)
        db.engine.dispose()
        engine.dispose()
        print(f"[profile] ingest {out['ingest_per_s']}/s in-process, grouping {out['grouping_per_s']}/s\n"
              + "".join(f"\n{k}:\n  " + "\n  ".join(out[k])
                        for k in ("ingest_top", "ingest_top_own", "grouping_top", "grouping_top_own")), flush=True)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _top(prof: cProfile.Profile, n: int = 15, key: int = 3) -> list[str]:
    """The ``n`` functions with the most cumulative (``key`` 3) or own (``key`` 2) time, as 'cum own calls
    function' lines."""
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][key], reverse=True)
    out = []
    for (path, line, name), (_cc, calls, tot, cum, _callers) in rows:
        where = f"{'/'.join(Path(path).parts[-2:])}:{line}:{name}" if line else name
        if "cProfile" in where or "builtins.exec" in where or "sensing_alarms.py" in where:
            continue
        out.append(f"{cum:7.2f}s cum {tot:6.2f}s own {calls:>8} {where}")
        if len(out) >= n:
            break
    return out


def code_version() -> str:
    """The commit measured, and the sensing files changed in the working tree then (other lanes work in it)."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.rstrip()

    dirty = git("status", "--porcelain", "--", "services/sensing", "libs/common").splitlines()
    return git("rev-parse", "--short", "HEAD") + (f" + uncommitted {', '.join(d[3:] for d in dirty)}" if dirty else "")


# --- main --------------------------------------------------------------------------------------------------------


def main() -> None:
    """Run the benchmark on the chosen stacks and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", default="embedded,distributed")
    parser.add_argument("--alarms", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=50_000, help="450,000 for the Dongguan-scale set")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--producers", type=int, default=8)
    parser.add_argument("--replicas", type=int, default=1, choices=(1, 2),
                        help="sensing processes (2: a second one in the same consumer group, posts spread)")
    parser.add_argument("--split", choices=("both", "consumer", "api"), default=None,
                        help="sensing as the -api and -consumer Deployments: one process serves, one consumes; "
                             "which of them relays the outbox")
    parser.add_argument("--batch", type=int, default=2000, help="alarms per POST (≤ 10,000)")
    parser.add_argument("--timeout", type=float, default=900, help="bound on every wait, seconds")
    parser.add_argument("--latency-seconds", type=int, default=0, help="0: no latency scenario")
    parser.add_argument("--latency-rate", type=float, default=1000)
    parser.add_argument("--case-share", type=float, default=0.02)
    parser.add_argument("--latency-devices", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true", help="cProfile ingest and grouping (embedded)")
    parser.add_argument("--profile-alarms", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--merge", action="store_true", help="keep the other stacks/scenarios already in --out")
    parser.add_argument("--skip-throughput", action="store_true", help="only the latency scenario")
    args = parser.parse_args()
    results: dict = {"stacks": {}, "runs": []}
    if args.merge and args.out.exists():
        results = json.loads(args.out.read_text())
    results.update({"when": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
                    "note": "other agents share the 2 cores: see each run's load averages"})
    run = {"args": " ".join(sys.argv[1:]), "started": datetime.now(UTC).isoformat(timespec="seconds"),
           "code": code_version(), "load_average_start": load_average()}
    for kind in args.stacks.split(","):
        entry = results["stacks"].setdefault(kind, {})
        if not args.skip_throughput:
            entry["throughput"] = run_throughput(kind, args)
            entry["throughput"]["code"] = run["code"]
        if args.latency_seconds:
            entry["latency"] = run_latency(kind, args)
            entry["latency"]["code"] = run["code"]
    run["load_average_end"] = load_average()
    results.setdefault("runs", []).append(run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
