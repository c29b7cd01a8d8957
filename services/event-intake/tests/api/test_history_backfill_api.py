"""The history's bulk loader of reports (reports/backfill.py): past reports stored with their ticket's final status,
department and deadline, nothing published, re-running it changes nothing, and the reporter and the department see
them through the API as any report. On SQLite and PostgreSQL."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from gridgov_event_intake.app import create_app
from gridgov_event_intake.reports import backfill
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.settings import IntakeSettings

AT = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Past:
    report_id: str
    ticket_id: str | None
    channel: str = "citizen"
    category_code: str = "01002"
    description: str = "路边暴露垃圾"
    lon: float = 113.755
    lat: float = 23.045
    reporter_id: str = "citizen-00001"
    reporter_role: str = "citizen"
    address: str | None = "莞城街道人民路1号"
    external_id: str | None = None
    handled_on_spot: bool = False
    answer: str | None = None
    grid_code: str = "441900006001001"
    submitted_at: datetime = AT


PAST = [
    Past("00000000-0000-4000-9000-000000000001", "00000000-0000-4000-8000-000000000001"),
    Past("00000000-0000-4000-9000-000000000002", "00000000-0000-4000-8000-000000000002"),
    Past("00000000-0000-4000-9000-000000000003", None, channel="hotline", reporter_id="hotline:GD1",
         reporter_role="command_centre", external_id="GD1", answer="已直接答复"),
]
FINALS = {PAST[0].report_id: ("closed", "urban-management", None, AT + timedelta(days=1)),
          PAST[1].report_id: ("claimed", "urban-management", AT + timedelta(hours=4), AT + timedelta(hours=1))}


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request, common_settings):
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
        yield c


def test_backfill_stores_past_reports_with_their_tickets_status_publishes_nothing_and_reruns_idempotently(
        client, token):
    runtime = client.app.state.runtime
    assert backfill.load(runtime.db, PAST, FINALS) == 3
    assert backfill.load(runtime.db, PAST, FINALS) == 3  # again: ON CONFLICT DO NOTHING
    runtime.relay.drain()
    with runtime.db.session() as session:
        rows = {r.id: r for r in session.exec(select(Report)).all()}
        assert session.exec(select(func.count()).select_from(Report)).one() == 3
    published = runtime.bus._conn().execute("SELECT count(*) FROM log").fetchone()[0]
    assert published == 0
    closed, open_, answered = (rows[p.report_id] for p in PAST)
    assert (closed.status, closed.ticket_id, closed.department) == ("closed", PAST[0].ticket_id, "urban-management")
    assert closed.updated_at == AT + timedelta(days=1)
    assert (open_.status, open_.deadline) == ("claimed", AT + timedelta(hours=4))
    assert (answered.status, answered.ticket_id, answered.answer) == ("closed", None, "已直接答复")

    mine = client.get("/v1/reports", params={"mine": "true"}, headers=token("citizen", sub="citizen-00001"))
    assert mine.status_code == 200, mine.text
    assert {i["id"] for i in mine.json()["items"]} == {PAST[0].report_id, PAST[1].report_id}
    dept = client.get(f"/v1/reports/{PAST[1].report_id}",
                      headers=token("dept_dispatcher", department="urban-management"))
    assert dept.status_code == 200 and dept.json()["status"] == "claimed"
