"""Replay reads past tickets as cases from only the columns a case needs (issue #18): the cases are the ones read
from whole tickets, newest first, ``since`` and ``limit`` applied — on SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from gridgov_common.bus.envelope import new_envelope
from gridgov_common.db import Database
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_common.migrations import upgrade_to_head
from gridgov_common.settings import CommonSettings
from gridgov_dispatch.app import MIGRATIONS
from gridgov_dispatch.catalog import service as catalogs
from gridgov_dispatch.consumers import REGISTER, consumer_specs
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.routing.service import past_cases, ticket_case
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.tables import metadata
from gridgov_dispatch.tickets.models import Ticket

CATEGORIES = ("04002", "01002", "27001", "05003", "99001")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dispatch.db'}"
    return request.getfixturevalue("pg_url")


def located(i: int):
    report_id = str(uuid.uuid4())
    report = ReportReceived(report_id=report_id, channel=("patrol", "hotline", "citizen")[i % 3],
                            category_code=CATEGORIES[i % len(CATEGORIES)], description=f"第{i}件：燃气味道",
                            lon=113.75, lat=23.02 + i * 1e-4, reporter_id="gw-7", reporter_role="grid_worker",
                            submitted_at=datetime.now(UTC), urgency="urgent" if i % 4 == 0 else "normal")
    location = Location(status="located" if i % 5 else "town_only", grid_code="441900003001001" if i % 5 else None,
                        village_code="441900003001" if i % 5 else None, town_code="441900003",
                        department_areas=["w-hanxi", "um-3"] if i % 2 else None)
    return new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id,
                        payload=ReportLocated(report=report, location=location), correlation_id=report_id)


def test_past_cases_from_columns_equal_cases_from_whole_tickets(url, tmp_path):
    db = Database(url, metadata, "dispatch")
    upgrade_to_head(db, MIGRATIONS)
    departments.seed(db)
    catalogs.seed(db)
    rule_sets.seed(db)
    ctx = DispatchContext(db, DispatchSettings(common=CommonSettings(data_dir=tmp_path, log_json=False),
                                               sla_scan_seconds=0))
    [spec] = [s for s in consumer_specs(ctx) if s.group == REGISTER.group]
    spec.handler([located(i) for i in range(12)])
    spec.handler([located(i) for i in range(12, 20)])
    with db.session() as session:
        whole = [ticket_case(t) for t in session.exec(
            select(Ticket).order_by(col(Ticket.created_at).desc(), col(Ticket.id))).all()]
        assert len(whole) == 20
        assert past_cases(session, None, 100) == whole
        assert past_cases(session, None, 7) == whole[:7]
        cut = whole[9].facts.at
        assert past_cases(session, cut, 100) == [c for c in whole if c.facts.at >= cut]
        assert past_cases(session, cut + timedelta(days=1), 100) == []
    assert {c.facts.channel for c in whole} == {"patrol", "hotline", "citizen"}
    assert any(c.facts.department_areas == frozenset({"w-hanxi", "um-3"}) for c in whole)
    assert any(c.actual_department for c in whole)
    db.engine.dispose()
