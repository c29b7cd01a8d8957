"""Start the four services as real processes, on the embedded stack or on Kafka + PostgreSQL/PostGIS.

Used by the end-to-end and fault tests and by the benchmarks. Each Stack gets its own data directory,
free ports, and, on the distributed stack, its own databases and topic namespace, so runs never mix.

The services are forked from one fork server per test process (``FORKS``), which imported their libraries once,
as `gridgov up` forks them from its launcher: a stack starts in about half the time of seven fresh interpreters.
Each service is still its own process, killed and restarted alone by the fault tests; none is restarted by
itself. ``GRIDGOV_TEST_LAUNCH=spawn`` starts fresh interpreters instead.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gridgov_cli.demo import Urls
from gridgov_cli.stack import SERVICES, ForkClient, ForkedProcess, ServiceDef, service_env, spawn, wait_ready
from gridgov_common.auth import mint_token
from tests.support.ports import free_port

SECRET = "e2e-test-secret-not-for-production"
FORKS = ForkClient()
atexit.register(FORKS.close)


def start_service(svc: ServiceDef, env: dict[str, str], log_dir: Path):
    """Start one service process (forked by ``FORKS``, or a fresh interpreter with GRIDGOV_TEST_LAUNCH=spawn)."""
    if os.environ.get("GRIDGOV_TEST_LAUNCH", "fork") == "spawn":
        return spawn(svc, env, log_dir)
    return FORKS.spawn(svc, env, log_dir)


# The console has no database, bus or consumer of its own: readiness and lag checks of those leave it out.
BUS_SERVICES = [name for name in SERVICES if name != "console"]
DB_NAMES = {"event-intake": "intake", "grid-registry": "registry", "dispatch": "dispatch",
            "notification": "notification", "analytics": "analytics", "sensing": "sensing"}


# A database with PostGIS installed, which each run's databases are copied from: installing the extension takes
# ~0.7 s a database, a copy ~0.4 s (six databases a distributed stack, a few dozen stacks a test run).
TEMPLATE_DB = "gg_template_postgis"


def ensure_template(admin_url: str) -> str:
    """Create the PostGIS template database once per server (safe when test processes race); its name."""
    import psycopg

    server = admin_url.rsplit("/", 1)[0]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        # One creator at a time; the others wait here and then find it made.
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (TEMPLATE_DB,))
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE_DB,)).fetchone() is None:
            # Built under another name and renamed when complete: a creator killed half-way leaves no template
            # without its extension behind.
            building = f"{TEMPLATE_DB}_{os.getpid()}"
            conn.execute(f'DROP DATABASE IF EXISTS "{building}"')
            conn.execute(f'CREATE DATABASE "{building}" OWNER gridgov')
            with psycopg.connect(f"{server}/{building}", autocommit=True) as build:
                build.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{TEMPLATE_DB}"')
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (TEMPLATE_DB,))
    return TEMPLATE_DB


def create_databases(admin_url: str, run_id: str) -> dict[str, str]:
    """Create one PostGIS database per service for this run; returns the service → SQLAlchemy URL map."""
    import psycopg

    template = ensure_template(admin_url)
    urls = {}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for service, short in DB_NAMES.items():
            name = f"gg_{short}_{run_id}"
            conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov TEMPLATE "{template}"')
            urls[service] = admin_url.rsplit("/", 1)[0].replace("postgresql://postgres@",
                                                                 "postgresql+psycopg://gridgov:gridgov@") + "/" + name
    return urls


def drop_databases(admin_url: str, run_id: str) -> None:
    """Drop the databases of a run."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        for short in DB_NAMES.values():
            conn.execute(f'DROP DATABASE IF EXISTS "gg_{short}_{run_id}" WITH (FORCE)')


def drop_namespace(bootstrap: str, namespace: str) -> None:
    """Delete a run's topics and consumer groups from the shared broker."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        groups = [g["group_id"] for g in admin.list_groups() if g["group_id"].startswith(namespace)]
        if groups:
            admin.delete_groups(groups)
        topics = [t for t in admin.list_topics() if t.startswith(namespace)]
        if topics:
            admin.delete_topics(topics)
    finally:
        admin.close()


@dataclass
class Stack:
    """The four services as child processes."""

    kind: str  # "embedded" or "distributed"
    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    procs: dict[str, subprocess.Popen | ForkedProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ports = {name: free_port() for name in SERVICES}
        env = service_env(dict(os.environ), self.data_dir, self.ports)
        env.update({"GRIDGOV_JWT_SECRET": SECRET, "GRIDGOV_LOG_JSON": "true", "PYTHONUNBUFFERED": "1"})
        if self.kind == "distributed":
            env["GRIDGOV_KAFKA_BOOTSTRAP_SERVERS"] = os.environ["GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS"]
            env["GRIDGOV_TOPIC_NAMESPACE"] = f"t{self.run_id}."
            self.admin_url = os.environ["GRIDGOV_TEST_PG_ADMIN_URL"]
            for service, url in create_databases(self.admin_url, self.run_id).items():
                env[f"{SERVICES[service].env_prefix}DATABASE_URL"] = url
        else:
            env.pop("GRIDGOV_KAFKA_BOOTSTRAP_SERVERS", None)
            for svc in SERVICES.values():
                env.pop(f"{svc.env_prefix}DATABASE_URL", None)
        env.update(self.extra_env)
        self.env = env

    @property
    def urls(self) -> Urls:
        """Base URLs of the services."""
        p = self.ports
        return Urls(intake=f"http://127.0.0.1:{p['event-intake']}", registry=f"http://127.0.0.1:{p['grid-registry']}",
                    dispatch=f"http://127.0.0.1:{p['dispatch']}",
                    notification=f"http://127.0.0.1:{p['notification']}",
                    **({"sensing": f"http://127.0.0.1:{p['sensing']}"} if "sensing" in p else {}))

    def url(self, service: str) -> str:
        """Base URL of one service."""
        return f"http://127.0.0.1:{self.ports[service]}"

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL of one service's database (its PostgreSQL database, or its SQLite file)."""
        key = f"{SERVICES[service].env_prefix}DATABASE_URL"
        if key in self.env:
            return self.env[key]
        return f"sqlite:///{(self.data_dir / f'{service}.db').resolve()}"

    def start(self, services: list[str] | None = None, timeout: float | None = None) -> None:
        """Start (or restart) services and wait until they are ready (90 s, or GRIDGOV_TEST_STACK_START_S)."""
        # The browser suites' knob: a machine busy with other work can take longer than 90 s to import them.
        timeout = timeout or float(os.environ.get("GRIDGOV_TEST_STACK_START_S", "90"))
        names = services or list(SERVICES)
        for name in names:
            self.procs[name] = start_service(SERVICES[name], self.env, self.data_dir / "logs")
        try:
            wait_ready({n: self.url(n) for n in names}, timeout)
        except TimeoutError as exc:
            # A fixture whose start fails never reaches its teardown: stop what was spawned here, or the
            # processes outlive the test run (orphans that load the machine and hold their ports).
            tail = self.log_tail()
            self.kill(names)
            raise TimeoutError(f"{exc}\n{tail}") from exc

    def start_extra(self, service: str, env: dict[str, str] | None = None) -> str:
        """Start a second instance of a service (same database and consumer groups); returns its URL. ``env``
        overrides settings of this instance only (sensing's: another MQTT client id, as a broker keeps one session
        per id)."""
        port = free_port()
        env = {**self.env, **(env or {})}
        env[f"{SERVICES[service].env_prefix}PORT"] = str(port)
        self.extra = start_service(SERVICES[service], env, self.data_dir / "logs-extra")
        url = f"http://127.0.0.1:{port}"
        wait_ready({f"{service}-2": url}, 90)
        return url

    def stop_extra(self) -> None:
        """Stop the second instance."""
        extra = getattr(self, "extra", None)
        if extra and extra.poll() is None:
            extra.terminate()
            extra.wait(20)

    def kill(self, services: list[str] | None = None, sig: int = signal.SIGKILL) -> None:
        """Send a signal (SIGKILL by default) and reap the processes."""
        # Signal every process first, then reap: they shut down side by side, not one after another (a graceful
        # stop of five services one by one cost seconds per stack, at every test that starts one).
        signalled = []
        for name in services or list(self.procs):
            proc = self.procs.get(name)
            if proc and proc.poll() is None:
                proc.send_signal(sig)
                signalled.append(proc)
        deadline = time.monotonic() + 20
        for proc in signalled:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def stop(self) -> None:
        """Stop every process gracefully."""
        self.kill(sig=signal.SIGTERM)

    def close(self) -> None:
        """Stop and drop this run's databases."""
        self.stop_extra()
        self.stop()
        if self.kind == "distributed":
            drop_databases(self.admin_url, self.run_id)
            drop_namespace(self.env["GRIDGOV_KAFKA_BOOTSTRAP_SERVERS"], self.env["GRIDGOV_TOPIC_NAMESPACE"])

    def mint(self, **claims: str) -> str:
        """A bearer token valid on this stack."""
        return mint_token(SECRET, **claims)

    def auth(self, **claims: str) -> dict[str, str]:
        """An Authorization header for these claims."""
        return {"Authorization": f"Bearer {self.mint(**claims)}"}

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of every service log and its warnings and errors (for failure messages).

        Migration chatter is left out: CI shows only part of a long failure message, and alembic's lines pushed
        the services' own out of it.
        """
        out = []
        for name in SERVICES:
            path = self.data_dir / "logs" / f"{name}.log"
            if not path.exists():
                continue
            kept = [line for line in path.read_text(errors="replace").splitlines()
                    if '"logger": "alembic' not in line]
            tail = kept[-lines:]
            earlier = [line for line in kept[:-lines] if '"level": "WARNING"' in line or '"level": "ERROR"' in line]
            out.append(f"--- {name} ---\n" + "\n".join(earlier[-10:] + tail))
        return "\n".join(out)

    def wait_for(self, what: str, probe, timeout: float = 60.0):
        """Poll ``probe`` until truthy; fail with the service logs after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                value = probe()
            except httpx.HTTPError:
                value = None
            if value:
                return value
            # Rest at least twice as long as the probe took: a probe that pages through thousands of tickets every
            # 0.1 s kept the services under test busy answering it instead of doing the work it waits for.
            time.sleep(min(2.0, max(0.1, 2 * (time.monotonic() - started))))
        raise AssertionError(f"timed out waiting for {what}\n{self.log_tail()}")
