import sqlite3
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gridgov_common.bus import OutgoingMessage
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import REPORTS_LOCATED, REPORTS_RECEIVED
from gridgov_common.events.reports import REPORT_RECEIVED, ReportReceived
from gridgov_grid_registry.app import create_app
from gridgov_grid_registry.settings import RegistrySettings


@pytest.fixture
def settings(common_settings) -> RegistrySettings:
    # database_url=None pins the embedded stack even when GRIDGOV_REGISTRY_DATABASE_URL is exported for the
    # PostGIS tests, which override this fixture.
    return RegistrySettings(common=common_settings, database_url=None, announce_grids=False)


@pytest.fixture(scope="session")
def seeded_registry_db(tmp_path_factory) -> Path:
    """A SQLite database as a first start leaves it: migrated, the demo grid set, roster and department areas
    stored (the same calls as the runtime's start; seeding writes nothing to the outbox). Made once per session."""
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head
    from gridgov_grid_registry.app import MIGRATIONS
    from gridgov_grid_registry.departments import handlers as departments
    from gridgov_grid_registry.grids import handlers
    from gridgov_grid_registry.roster import handlers as roster
    from gridgov_grid_registry.tables import metadata

    path = tmp_path_factory.mktemp("registry-template") / "grid-registry.db"
    db = Database(f"sqlite:///{path}", metadata, "grid-registry")
    try:
        upgrade_to_head(db, MIGRATIONS)
        handlers.seed_demo(db)
        roster.seed_demo(db)
        departments.seed_demo(db)
    finally:
        db.engine.dispose()
    return path


@pytest.fixture
def client(settings, seeded_registry_db):
    # A copy of the seeded database where the app would seed its own: the start then finds the demo stored and
    # skips the ~1 s of generating and storing 3,556 areas and 10,255 workers, for each of these tests.
    target = Path(settings.resolved_database_url().removeprefix("sqlite:///"))
    if settings.seed_demo and settings.resolved_database_url().startswith("sqlite:///") and not target.exists():
        with closing(sqlite3.connect(seeded_registry_db)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    with TestClient(create_app(settings)) as c:
        yield c


def wait_until(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Feed:
    """Drives the registry's consumer through the bus: publish report.received, watch report.located."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.runner = runtime.runners[0]

    @staticmethod
    def received(lon: float | None, lat: float | None) -> Envelope:
        report_id = str(uuid.uuid4())
        payload = ReportReceived(report_id=report_id, channel="patrol", category_code="01002",
                                 description="路边有暴露垃圾", lon=lon, lat=lat, reporter_id="gw-1",
                                 reporter_role="grid_worker", submitted_at=datetime.now(UTC))
        return new_envelope(type=REPORT_RECEIVED, producer="event-intake", key=report_id, payload=payload,
                            correlation_id=report_id)

    def publish(self, envelope: Envelope) -> None:
        """Publish and wait until the consumer has handled it (and the relay has moved what it staged)."""
        before = self.runner.handled
        self.runtime.bus.publish([OutgoingMessage(REPORTS_RECEIVED, envelope.key, envelope.to_bytes())])
        wait_until(lambda: self.runner.handled > before)
        self.runtime.relay.drain()

    def located_count(self) -> int:
        return sum(self.runtime.bus.end_offsets(REPORTS_LOCATED).values())

    def located(self) -> list[Envelope]:
        consumer = self.runtime.bus.consumer(f"test-observer-{uuid.uuid4().hex[:6]}", [REPORTS_LOCATED])
        try:
            out: list[Envelope] = []
            deadline = time.monotonic() + 5
            while len(out) < self.located_count() and time.monotonic() < deadline:
                out += [Envelope.from_bytes(r.value) for r in consumer.poll(timeout=0.2)]
            return out
        finally:
            consumer.close()


@pytest.fixture
def feed(client) -> Feed:
    return Feed(client.app.state.runtime)
