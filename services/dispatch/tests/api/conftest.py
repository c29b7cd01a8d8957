"""The dispatch app on the embedded stack, and helpers that feed it located reports and read its events."""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from conftest import require_infra
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import REPORTS_LOCATED, TICKETS_EVENTS
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_dispatch.app import create_app
from gridgov_dispatch.settings import DispatchSettings

GRID = "441900001001001"
VILLAGE = "441900001001"
TOWN = "441900001"


@dataclass
class Stack:
    """The running app plus the embedded bus it consumes from."""

    client: TestClient
    token: object

    @property
    def runtime(self):
        return self.client.app.state.runtime

    def located(self, *, category="04002", status="located", grid=GRID, report_id=None,
                description="自来水管破裂，路面冒水", channel="patrol") -> Envelope:
        """A report.located envelope as grid-registry would publish it."""
        report_id = report_id or str(uuid.uuid4())
        located = status == "located"
        payload = ReportLocated(
            report=ReportReceived(
                report_id=report_id, channel=channel, category_code=category, description=description,
                lon=113.75, lat=23.02, reporter_id="gw-7", reporter_role="grid_worker",
                submitted_at=datetime.now(UTC)),
            location=Location(
                status=status,
                grid_code=grid if located else None, village_code=VILLAGE if located else None,
                town_code=TOWN if status != "unlocated" else None),
        )
        return new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id, payload=payload,
                            correlation_id=report_id)

    def publish(self, *envelopes: Envelope) -> None:
        self.runtime.bus.publish([OutgoingMessage(REPORTS_LOCATED, e.key, e.to_bytes()) for e in envelopes])

    def wait_handled(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while sum(r.handled for r in self.runtime.runners) < count:
            assert time.monotonic() < deadline, "the consumer did not handle the messages in time"
            time.sleep(0.02)

    def wait_ticket(self, report_id: str, timeout: float = 15.0) -> dict:
        """Poll the API until the report's ticket appears."""
        deadline = time.monotonic() + timeout
        while True:
            resp = self.client.get("/v1/tickets", params={"report_id": report_id},
                                   headers=self.token("command_centre"))
            assert resp.status_code == 200, resp.text
            if resp.json()["items"]:
                return resp.json()["items"][0]
            assert time.monotonic() < deadline, f"no ticket for report {report_id}"
            time.sleep(0.02)

    def ticket_for(self, **kwargs) -> dict:
        """Publish a located report and return its ticket."""
        envelope = self.located(**kwargs)
        self.publish(envelope)
        return self.wait_ticket(envelope.key)

    def events(self, ticket_id: str) -> list[Envelope]:
        """The ticket's messages on gridgov.tickets.events, in log order."""
        self.runtime.relay.drain()
        rows = self.runtime.bus._conn().execute(
            'SELECT value FROM log WHERE topic=? AND key=? ORDER BY "offset"', (TICKETS_EVENTS, ticket_id)
        ).fetchall()
        return [Envelope.from_bytes(bytes(r[0])) for r in rows]


@pytest.fixture
def client(common_settings):
    app = create_app(DispatchSettings(common=common_settings))
    with TestClient(app) as c:
        yield c


@pytest.fixture
def stack(client, token) -> Stack:
    return Stack(client, token)


@pytest.fixture
def pg_stack(common_settings, token) -> Stack:
    """The dispatch app on a fresh PostgreSQL database (for what must hold on both databases)."""
    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL")
    name = f"gg_dispatch_t{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    url = make_url(admin).set(drivername="postgresql+psycopg", username="gridgov", password="gridgov",
                              database=name).render_as_string(hide_password=False)
    try:
        app = create_app(DispatchSettings(common=common_settings, database_url=url))
        with TestClient(app) as c:
            yield Stack(c, token)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def any_stack(request) -> Stack:
    """The dispatch app on SQLite, then on a fresh PostgreSQL database (for what must hold on both)."""
    if request.param == "postgresql":
        request.applymarker(pytest.mark.distributed)
    return request.getfixturevalue("stack" if request.param == "sqlite" else "pg_stack")
