"""The minimal pipeline gridgov's loop is measured against (issue #18, item 6): same bus, same databases, no domain.

Four processes, one per gridgov service on the report's path, each with its own database:

- ``accept`` (event-intake's place): FastAPI on uvicorn, started as gridgov's ``serve`` starts a service,
  takes the same HTTP POST the real loop gets (``/v1/reports/patrol``, the same JSON body, parsed into a small
  pydantic model) in an async endpoint, and answers 202 once its row and outbox message are committed. Writes
  go through a group commit (one writer thread commits every request waiting at that moment in one
  transaction), as event-intake's do: with one transaction per request the baseline's HTTP stage took 2.4 ms
  of CPU per report and capped the baseline below gridgov's own intake, which would flatter the ratio. No token
  check, no catalog, no validation beyond the body's types.
- ``locate``, ``dispatch``, ``notify`` (grid-registry's, dispatch's and notification's places): a
  ``ConsumerRunner`` on the previous stage's topic; per polled batch, one ``Database.idempotent_batch``
  transaction writes one row per message (one multi-row Core insert) and one outbox message per message, which
  the ``OutboxRelay`` publishes to the next topic (``notify`` publishes too, to a topic nobody reads).

Everything is gridgov_common's: the bus (embedded SQLite log or Kafka, topic namespace per run), ``Database``
(engine settings, outbox, handled-message records), ``Envelope``, ``ConsumerRunner``, ``OutboxRelay``. So the
baseline pays what the infrastructure costs and nothing else; gridgov ÷ baseline is the share of the machine's
pace the domain work leaves. "Dispatched" is the ``dispatch`` stage's row, as gridgov's figure is the ticket's
dispatch transition.

Used by ``bench/loop_throughput.py``; a stage process is ``python bench/loop_baseline.py --stage NAME ...``
(bound to 127.0.0.1, it exits after ``--max-seconds`` or when its parent is gone).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert

STAGES = ("accept", "locate", "dispatch", "notify")
# The topic each stage publishes to; a stage consumes the previous stage's.
TOPICS = {"accept": "baseline.received", "locate": "baseline.located", "dispatch": "baseline.dispatched",
          "notify": "baseline.notified"}
PARTITIONS = 4  # as gridgov's topics (CommonSettings.topic_partitions)
ROOT = Path(__file__).resolve().parent.parent


class Body(BaseModel):
    """The fields of gridgov's patrol report body in the bench (at module level: FastAPI resolves it by name)."""

    category_code: str
    description: str
    lon: float
    lat: float


def row_table(metadata: MetaData) -> Table:
    """The one table of a stage: one row per report that passed through it."""
    return Table("row", metadata,
                 Column("report_id", String(36), primary_key=True),
                 Column("at", DateTime(timezone=True), nullable=False))


def _database(stage: str, url: str):  # noqa: ANN202 - gridgov_common is imported in the child only
    from gridgov_common.db import Database, OutboxSession

    metadata = MetaData()
    table = row_table(metadata)

    class RowSession(OutboxSession):
        """Writes the batch's rows in one multi-row insert at commit, like the outbox rows."""

        def commit(self) -> None:
            """Insert the staged rows, then the outbox rows, then commit."""
            rows = self.info.pop("rows", None)
            if rows:
                self.execute(insert(table), rows)
            super().commit()

        def rollback(self) -> None:
            """Forget the staged rows."""
            self.info.pop("rows", None)
            super().rollback()

    db = Database(url, metadata, f"baseline-{stage}", session_class=RowSession)
    db.create_all()
    return db


def _bus(url: str, namespace: str):  # noqa: ANN202
    from gridgov_common.bus.interface import open_bus
    from gridgov_common.bus.topics import dlq

    bus = open_bus(url, client_id="baseline", namespace=namespace)
    bus.ensure_topics([t for topic in TOPICS.values() for t in (topic, dlq(topic))], PARTITIONS)
    return bus


def _envelope(stage: str, report_id: str, correlation_id: str, causation_id: str | None = None):  # noqa: ANN202
    from gridgov_common.bus.envelope import Envelope

    return Envelope(type=f"baseline.{stage}", producer=f"baseline-{stage}", key=report_id,
                    correlation_id=correlation_id, causation_id=causation_id, payload={"report_id": report_id})


def _stop_when_orphaned(stop: threading.Event, max_seconds: float) -> None:
    """Set ``stop`` when the parent is gone or the time is up (a bench process never outlives its run)."""
    parent = os.getppid()
    deadline = time.monotonic() + max_seconds
    while not stop.wait(1.0):
        if os.getppid() != parent or time.monotonic() > deadline:
            stop.set()


def run_consumer(stage: str, db_url: str, bus_url: str, namespace: str, ready_file: Path, max_seconds: float) -> None:
    """One consumer stage: consume the previous topic, write a row and publish, until stopped."""
    from gridgov_common.bus.runner import ConsumerRunner
    from gridgov_common.db import OutboxRelay

    db = _database(stage, db_url)
    bus = _bus(bus_url, namespace)
    source = TOPICS[STAGES[STAGES.index(stage) - 1]]
    target = TOPICS[stage]

    def apply(session, envelope) -> None:  # noqa: ANN001
        report_id = envelope.payload["report_id"]
        session.info.setdefault("rows", []).append({"report_id": report_id, "at": datetime.now(UTC)})
        db.add_outbox(session, target, _envelope(stage, report_id, envelope.correlation_id, str(envelope.id)))

    relay = OutboxRelay(db, bus)
    runner = ConsumerRunner(bus, f"baseline-{stage}", [source], db.idempotent_batch(f"baseline-{stage}", apply))
    relay.start()
    runner.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=_stop_when_orphaned, args=(stop, max_seconds), daemon=True).start()
    runner.ready.wait(60)
    ready_file.write_text("ready")
    stop.wait()
    runner.stop()
    relay.stop()
    runner.join(10)
    relay.join(10)
    bus.close()


def run_accept(db_url: str, bus_url: str, namespace: str, port: int, max_seconds: float) -> None:
    """The HTTP stage: POST a report → one row + one outbox message in one transaction → 202."""
    from contextlib import asynccontextmanager

    import uvicorn
    from fastapi import FastAPI

    from gridgov_common.db import OutboxRelay

    db = _database("accept", db_url)
    bus = _bus(bus_url, namespace)
    relay = OutboxRelay(db, bus)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        relay.start()
        yield
        relay.stop()
        relay.join(10)

    app = FastAPI(lifespan=lifespan)

    writer = GroupWriter(db)
    writer.start()

    @app.post("/v1/reports/patrol", status_code=202)
    async def accept(body: Body) -> dict[str, str]:
        """Take a report durably (answer once committed) and queue its message."""
        report_id = str(uuid.uuid4())
        await asyncio.wrap_future(writer.submit(report_id))
        return {"report_id": report_id}

    @app.get("/readyz")
    def readyz() -> dict[str, str]:
        """Ready once the database and the bus answered at start."""
        return {"status": "ready"}

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                            timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    stop = threading.Event()

    def watch() -> None:
        _stop_when_orphaned(stop, max_seconds)
        server.should_exit = True

    threading.Thread(target=watch, daemon=True).start()
    server.run()


class GroupWriter(threading.Thread):
    """The accept stage's one writer: each round commits the rows and outbox messages of every waiting request."""

    MAX_BATCH = 256

    def __init__(self, db) -> None:  # noqa: ANN001
        super().__init__(name="baseline-group-writer", daemon=True)
        self.db = db
        self.pending: queue.SimpleQueue[tuple[str, Future]] = queue.SimpleQueue()

    def submit(self, report_id: str) -> Future:
        """Queue a report's write; the future completes once it is committed."""
        future: Future = Future()
        self.pending.put((report_id, future))
        return future

    def run(self) -> None:
        """Commit rounds until the process ends (a daemon thread)."""
        while True:
            batch = [self.pending.get()]
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self.pending.get_nowait())
                except queue.Empty:
                    break
            try:
                now = datetime.now(UTC)
                with self.db.session() as session:
                    session.info["rows"] = [{"report_id": rid, "at": now} for rid, _ in batch]
                    for rid, _ in batch:
                        self.db.add_outbox(session, TOPICS["accept"], _envelope("accept", rid, rid))
                    session.commit()
            except Exception as exc:  # noqa: BLE001 - every request of the round gets the error (a 500)
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for _, future in batch:
                future.set_result(None)


@dataclass
class Baseline:
    """The four baseline processes on one stack kind (``embedded`` or ``distributed``), for one bench run."""

    kind: str
    data_dir: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    max_seconds: float = 1800.0

    def __post_init__(self) -> None:
        from tests.support.stack import free_port

        self.port = free_port()
        self.namespace = ""
        if self.kind == "distributed":
            import psycopg

            self.admin_url = os.environ["GRIDGOV_TEST_PG_ADMIN_URL"]
            self.bus_url = "kafka://" + os.environ["GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS"]
            self.namespace = f"b{self.run_id}."
            base = self.admin_url.rsplit("/", 1)[0].replace("postgresql://postgres@",
                                                            "postgresql+psycopg://gridgov:gridgov@")
            self.db_urls = {}
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                for stage in STAGES:
                    conn.execute(f'CREATE DATABASE "gg_bl_{stage}_{self.run_id}" OWNER gridgov')
                    self.db_urls[stage] = f"{base}/gg_bl_{stage}_{self.run_id}"
        else:
            self.bus_url = f"sqlite:///{(self.data_dir / 'bus.db').resolve()}"
            self.db_urls = {s: f"sqlite:///{(self.data_dir / (s + '.db')).resolve()}" for s in STAGES}

    @property
    def url(self) -> str:
        """Where the accept stage takes reports."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        """Start the four processes and wait until each is ready."""
        import httpx

        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MALLOC_ARENA_MAX": "2", "PYTHONUNBUFFERED": "1"}  # as gridgov's service_env
        # The topics exist before any stage joins its group: on Kafka, four processes creating them at once while
        # subscribing left a consumer with no partitions and no lag to notice it by (seen once, the run hung).
        _bus(self.bus_url, self.namespace).close()
        for stage in STAGES:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--stage", stage, "--db", self.db_urls[stage],
                   "--bus", self.bus_url, "--namespace", self.namespace, "--port", str(self.port),
                   "--ready-file", str(self.data_dir / f"{stage}.ready"), "--max-seconds", str(self.max_seconds)]
            log = open(logs / f"{stage}.log", "ab")  # noqa: SIM115 - owned by the child
            self.procs[stage] = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + timeout
        pending = set(STAGES)
        while pending and time.monotonic() < deadline:
            for stage in list(pending):
                if self.procs[stage].poll() is not None:
                    raise RuntimeError(f"baseline {stage} exited: {self.log_tail(stage)}")
                if stage == "accept":
                    try:
                        if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                            pending.discard(stage)
                    except httpx.HTTPError:
                        pass
                elif (self.data_dir / f"{stage}.ready").exists():
                    pending.discard(stage)
            time.sleep(0.2)
        if pending:
            self.close()
            raise TimeoutError(f"baseline not ready after {timeout:.0f}s: {sorted(pending)}")

    def log_tail(self, stage: str, lines: int = 20) -> str:
        """The last lines of a stage's log."""
        path = self.data_dir / "logs" / f"{stage}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def close(self) -> None:
        """Stop the processes (SIGTERM, then SIGKILL) and drop this run's databases and topics."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self.kind == "distributed":
            import psycopg

            from tests.support.stack import drop_namespace

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                for stage in STAGES:
                    conn.execute(f'DROP DATABASE IF EXISTS "gg_bl_{stage}_{self.run_id}" WITH (FORCE)')
            drop_namespace(self.bus_url.removeprefix("kafka://"), self.namespace)


def main() -> None:
    """Run one stage process (started by ``Baseline.start``)."""
    parser = argparse.ArgumentParser(description="One stage of the minimal baseline pipeline (see the module doc).")
    parser.add_argument("--stage", choices=STAGES, required=True)
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the stage's database")
    parser.add_argument("--bus", required=True, help="kafka://host:port or sqlite:///path/bus.db")
    parser.add_argument("--namespace", default="", help="prefix of topic and group names")
    parser.add_argument("--port", type=int, default=9190, help="HTTP port of the accept stage (127.0.0.1)")
    parser.add_argument("--ready-file", type=Path, help="written when a consumer stage has joined its group")
    parser.add_argument("--max-seconds", type=float, default=1800, help="exit after this long in any case")
    args = parser.parse_args()
    if args.stage == "accept":
        run_accept(args.db, args.bus, args.namespace, args.port, args.max_seconds)
    else:
        run_consumer(args.stage, args.db, args.bus, args.namespace, args.ready_file, args.max_seconds)


if __name__ == "__main__":
    main()
