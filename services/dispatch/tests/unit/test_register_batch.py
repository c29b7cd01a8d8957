"""The register consumer works a polled batch as a batch (issue #18): reference data checked once per batch and
seen by the next batch after another process changed it, one read for the batch's report ids, and the same
tickets, audit rows and events as one message at a time — on SQLite and PostgreSQL."""

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.db import Database
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_common.migrations import upgrade_to_head
from gridgov_common.settings import CommonSettings
from gridgov_dispatch import reference
from gridgov_dispatch.app import MIGRATIONS
from gridgov_dispatch.catalog import service as catalogs
from gridgov_dispatch.catalog.models import CatalogVersion
from gridgov_dispatch.consumers import REGISTER, consumer_specs
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.departments.models import Department
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.tables import metadata
from gridgov_dispatch.tickets.models import MergedReport, Ticket, TicketTransition
from gridgov_dispatch.worktime import calendar_store

GRID, VILLAGE, TOWN = "441900001001001", "441900001001", "441900001"
# Columns that hold the moment of the run or a random id; everything else must match between two runs.
MOMENTS = {"id", "created_at", "updated_at", "stage_started_at", "deadline", "next_check_at", "ticket_id", "at",
           "event_id", "geofence_checked_at"}


def located(report_id: str | None = None, *, category: str = "04002", lat: float = 23.02,
            on_spot: bool = False) -> Envelope:
    """A report.located envelope as grid-registry publishes it."""
    report_id = report_id or str(uuid.uuid4())
    report = ReportReceived(report_id=report_id, channel="patrol", category_code=category,
                            description="自来水管破裂，路面冒水", lon=113.75, lat=lat, reporter_id="gw-7",
                            reporter_role="grid_worker", submitted_at=datetime.now(UTC),
                            **({"handled_on_spot": True, "handled_note": "fixed"} if on_spot else {}))
    payload = ReportLocated(report=report, location=Location(status="located", grid_code=GRID, village_code=VILLAGE,
                                                             town_code=TOWN))
    return new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id, payload=payload,
                        correlation_id=report_id)


def copy(envelope: Envelope) -> Envelope:
    """The same report under a new envelope id (a redelivery the handled-message records cannot catch)."""
    return new_envelope(type=envelope.type, producer=envelope.producer, key=envelope.key,
                        payload=ReportLocated.model_validate(envelope.payload), correlation_id=envelope.correlation_id)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dispatch.db'}"
    return request.getfixturevalue("pg_url")


class Service:
    """One dispatch process on a database: its context and the register consumer's batch handler."""

    def __init__(self, url: str, data_dir: Path, *, migrate: bool = True, **settings):
        self.db = Database(url, metadata, "dispatch")
        if migrate:
            upgrade_to_head(self.db, MIGRATIONS)
            departments.seed(self.db)
            catalogs.seed(self.db)
            rule_sets.seed(self.db)
        self.ctx = DispatchContext(self.db, DispatchSettings(common=CommonSettings(data_dir=data_dir, log_json=False),
                                                             sla_scan_seconds=0, **settings))
        [spec] = [s for s in consumer_specs(self.ctx) if s.group == REGISTER.group]
        self.handle = spec.handler

    def ticket(self, report_id: str) -> Ticket | None:
        with self.db.session() as session:
            return session.execute(select(Ticket).where(Ticket.report_id == report_id)).scalars().first()

    def state(self) -> dict:
        """Tickets, audit rows and outbox events by report, without the columns that hold moments or ids."""
        with self.db.session() as session:
            tickets = {t.report_id: t for t in session.execute(select(Ticket)).scalars()}
            by_id = {t.id: r for r, t in tickets.items()}
            rows = session.execute(select(TicketTransition).order_by(TicketTransition.seq)).scalars().all()
            merged = {m.report_id: by_id[m.ticket_id] for m in session.execute(select(MergedReport)).scalars()}
            outbox = session.execute(text("SELECT key, value FROM outbox ORDER BY id")).all()
            return {
                "tickets": {r: {k: v for k, v in t.model_dump().items() if k not in MOMENTS}
                            for r, t in tickets.items()},
                "audit": sorted((by_id[a.ticket_id], a.seq, a.action, a.from_state, a.to_state, a.note, a.photos)
                                for a in rows),
                "merged": merged,
                "events": [(by_id[key], Envelope.from_bytes(bytes(value)).type) for key, value in outbox],
            }

    def close(self) -> None:
        reference.forget(self.db)
        self.db.engine.dispose()


@pytest.fixture
def service(url, tmp_path):
    svc = Service(url, tmp_path)
    yield svc
    svc.close()


@pytest.fixture
def other(service, url, tmp_path):
    """A second process on the same database (another dispatch instance, or the CLI)."""
    svc = Service(url, tmp_path, migrate=False)
    yield svc
    svc.close()


def test_deactivated_department_is_seen_by_the_next_batch(service, other):
    first = located()
    service.handle([first])
    department = service.ticket(first.key).department
    assert department and service.ticket(first.key).state == "dispatched"
    with other.db.session() as session:  # by hand, as an operator would: no event, no version number
        session.execute(update(Department).where(Department.code == department).values(active=False))
        session.commit()
    second = located()
    service.handle([second])
    assert service.ticket(second.key).state == "registered" and service.ticket(second.key).department is None
    with other.db.session() as session:
        session.execute(update(Department).where(Department.code == department).values(active=True))
        session.commit()
    third = located()
    service.handle([third])
    assert service.ticket(third.key).department == department


def test_rule_set_published_by_another_process_is_used_by_the_next_batch(service, other):
    first = located()
    service.handle([first])
    assert service.ticket(first.key).rule_set_version == 1
    rule_sets.publish(other.db, rule_sets.default_rules_data(), "admin-2", "from the other process")
    second = located()
    service.handle([second])
    assert service.ticket(second.key).rule_set_version == 2


def test_catalog_published_by_another_process_is_used_by_the_next_batch(service, other):
    first = located()
    service.handle([first])
    assert service.ticket(first.key).catalog_version == 1
    with other.db.session() as session:
        items = catalogs.list_items(session, 1)
        catalogs.store(session, items, published_by="admin-2", note="the other process")
        catalogs.commit_version(session)
    second = located()
    service.handle([second])
    assert service.ticket(second.key).catalog_version == 2
    with service.db.session() as session:
        assert session.execute(select(CatalogVersion.version).order_by(CatalogVersion.version.desc())).first()[0] == 2


def test_calendar_year_loaded_by_another_process_is_in_the_next_batch_snapshot(service, other):
    service.handle([located()])
    assert service.ctx.batch_snapshot().calendar().tables.get(2031) is None or \
        service.ctx.batch_snapshot().calendar().tables[2031].source != "loaded"
    calendar_store.load_year(other.db, 2031, [date(2031, 1, 1)], [], "admin-2")
    service.handle([located()])
    assert service.ctx.batch_snapshot().calendar().tables[2031].source == "loaded"


def test_duplicate_report_in_one_batch_and_a_redelivery_make_one_ticket(service):
    envelope = located()
    service.handle([envelope, copy(envelope), located()])
    state = service.state()
    assert len(state["tickets"]) == 2
    assert [a[2] for a in state["audit"] if a[0] == envelope.key] == ["register", "dispatch"]
    service.handle([copy(envelope)])  # the next batch: the read-ahead finds the ticket
    assert service.state() == state


def test_batch_gives_the_same_tickets_audit_rows_and_events_as_one_by_one(tmp_path):
    envelopes = [located(category=c) for c in ("04002", "01002", "01001", "99999", "04002")]
    envelopes += [located(on_spot=True), copy(envelopes[0])]
    batched = Service(f"sqlite:///{tmp_path / 'batched.db'}", tmp_path)
    single = Service(f"sqlite:///{tmp_path / 'single.db'}", tmp_path)
    try:
        batched.handle(envelopes)
        for envelope in envelopes:
            single.handle([envelope])
        assert batched.state() == single.state()
        assert len(batched.state()["tickets"]) == 6
    finally:
        batched.close()
        single.close()


def test_merge_within_one_batch_sees_the_ticket_the_batch_just_made(url, tmp_path):
    svc = Service(url, tmp_path, merge_distance_m=50)
    try:
        first, near = located(), located(lat=23.0202)
        svc.handle([first, near])
        state = svc.state()
        assert list(state["tickets"]) == [first.key] and state["merged"] == {near.key: first.key}
        assert [t for _, t in state["events"]] == ["ticket.registered", "ticket.dispatched", "ticket.merged"]
    finally:
        svc.close()


def test_failing_batch_stores_nothing_and_one_by_one_stores_the_good_messages(service):
    good, poison = located(), located()
    poison.payload["report"]["category_code"] = None  # fails validation in the handler
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the validation raises, the batch must fail
        service.handle([good, poison])
    assert service.state()["tickets"] == {}
    service.handle([good])
    with pytest.raises(Exception):  # noqa: B017, PT011
        service.handle([poison])
    assert list(service.state()["tickets"]) == [good.key]
