"""intake's ticket-event consumers work a batch as a batch (issue #18) with the outcome of one message at a time.

The reference is the per-message path (the handlers called with bare settings, one transaction per message, as
before #18); the batched consumers (``consumers.consumer_specs``) must leave the same reports, report updates,
rewards and labelled texts for any batch size, skip redeliveries, keep per-key order, leave nothing from a batch
that fails, and read and write a batch in a bounded number of statements whatever its size.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, insert, select

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.consumers import consumer_spec
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_common.runtime import ConsumerSpec
from gridgov_event_intake.app import open_database
from gridgov_event_intake.assist.models import AssistExample
from gridgov_event_intake.consumers import ASSIST_CORRECTIONS, TICKET_STATUS, consumer_specs
from gridgov_event_intake.reports.models import Report, ReportUpdate
from gridgov_event_intake.rewards.models import RewardEntry
from gridgov_event_intake.settings import IntakeSettings

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
ACTIONS = ("dispatch", "claim", "handle", "verify", "close", "rule_return", "reopen")
STATES = {"dispatch": "dispatched", "claim": "claimed", "handle": "handled", "verify": "verified", "close": "closed",
          "rule_return": "dispatched", "reopen": "dispatched"}
CODES = ("01002", "01003", "04002", "11008")
GROUPS = (TICKET_STATUS.group, ASSIST_CORRECTIONS.group)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """intake's tables on a fresh SQLite file or PostgreSQL database."""
    url = (f"sqlite:///{tmp_path / 'intake.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    database = open_database(url)
    database.create_all()
    yield database
    database.engine.dispose()


@pytest.fixture
def settings(common_settings) -> IntakeSettings:
    return IntakeSettings(common=common_settings)


def seed_reports(db, n: int = 12) -> list[str]:
    """Reset the reports to freshly accepted ones (a third citizen's, one with a blank text) and clear the rest."""
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)]
    with db.session() as session:
        for table in (Report, ReportUpdate, RewardEntry, AssistExample):
            session.execute(delete(table.__table__))
        session.execute(delete(db.tables.handled))
        session.execute(insert(Report.__table__), [{
            "id": rid, "channel": "citizen" if i % 3 == 0 else "patrol", "category_code": CODES[i % 2],
            "description": "   " if i == 5 else f"路口第{i}盏路灯晚上不亮", "reporter_id": f"citizen-{i}",
            "reporter_role": "citizen" if i % 3 == 0 else "grid_worker", "status": "received",
            "submitted_at": T0, "updated_at": T0} for i, rid in enumerate(ids)])
        session.commit()
    return ids


def ticket_event(report_id: str, action: str, code: str, at: datetime, merged: list[str]) -> Envelope:
    """A ticket event envelope as dispatch publishes it."""
    payload = TicketEvent(ticket_id=f"T-{report_id[-4:]}", report_id=report_id, action=action, from_state=None,
                          to_state=STATES[action], category_code=code, department=f"dept-{code}",
                          grid_code="441900001001001", village_code=None, town_code=None, reporter_id="x",
                          deadline=at + timedelta(days=2), actor_id="cc-1", actor_role="command_centre",
                          note=f"{action} at {at:%H:%M}", occurred_at=at, merged_report_ids=merged)
    return new_envelope(type=ticket_event_type(action), producer="dispatch", key=payload.ticket_id,
                        payload=payload, correlation_id=report_id)


def stream(ids: list[str], seed: int, count: int = 80) -> list[Envelope]:
    """Random ticket events over the reports (and one intake never had), with merged reports, repeated
    verifications, redeliveries of the same envelope and the same event republished under a new envelope id."""
    rnd = random.Random(seed)
    targets = [*ids, "00000000-0000-4000-8000-999999999999"]
    out: list[Envelope] = []
    for n in range(count):
        roll = rnd.random()
        if out and roll < 0.1:
            out.append(rnd.choice(out))  # redelivered: the same envelope id
            continue
        if out and roll < 0.15:
            again = rnd.choice(out)  # republished under a new envelope id
            out.append(again.model_copy(update={"id": uuid.uuid4()}))
            continue
        primary = rnd.choice(targets)
        merged = rnd.sample([t for t in targets if t != primary], k=rnd.choice((0, 0, 1, 2)))
        out.append(ticket_event(primary, rnd.choice(ACTIONS), rnd.choice(CODES), T0 + timedelta(minutes=n), merged))
    return out


def state(db) -> dict[str, list[tuple]]:
    """Everything the two consumers write, in a comparable form (not the reports' wall-clock updated_at)."""
    with db.session() as session:
        def rows(stmt):
            return sorted(tuple(r) for r in session.execute(stmt))

        return {
            "reports": rows(select(Report.id, Report.status, Report.ticket_id, Report.department, Report.grid_code,
                                   Report.deadline)),
            "updates": rows(select(ReportUpdate.id, ReportUpdate.report_id, ReportUpdate.status, ReportUpdate.note,
                                   ReportUpdate.at)),
            "rewards": rows(select(RewardEntry.citizen_id, RewardEntry.report_id, RewardEntry.points,
                                   RewardEntry.reason, RewardEntry.at)),
            "examples": rows(select(AssistExample.report_id, AssistExample.text, AssistExample.code,
                                    AssistExample.source, AssistExample.created_at, AssistExample.updated_at)),
            "handled": rows(select(db.tables.handled.c.consumer, db.tables.handled.c.message_id)),
        }


def one_by_one(db, settings) -> list[ConsumerSpec]:
    """The consumers as before #18: the handlers with bare settings, each message applied alone."""
    return [consumer_spec(db, table, lambda: settings) for table in (TICKET_STATUS, ASSIST_CORRECTIONS)]


def batched(db, settings) -> list[ConsumerSpec]:
    """The consumers the service runs."""
    return [s for s in consumer_specs(db, settings) if s.group in GROUPS]


def feed(specs: list[ConsumerSpec], envelopes: list[Envelope], size: int) -> None:
    """Hand the envelopes to each consumer in polled batches of ``size``, as the bus runner does."""
    for spec in specs:
        for i in range(0, len(envelopes), size):
            spec.handler(envelopes[i:i + size])


def reference(db, settings, envelopes: list[Envelope]) -> dict[str, list[tuple]]:
    seed_reports(db)
    feed(one_by_one(db, settings), envelopes, 1)
    return state(db)


@pytest.mark.parametrize("size", [1, 7, 100])
def test_batched_ticket_events_leave_what_one_by_one_leaves(db, settings, size):
    envelopes = stream(seed_reports(db), seed=size)
    expected = reference(db, settings, envelopes)
    assert expected["rewards"] and expected["examples"] and expected["updates"]  # the stream exercises them all
    seed_reports(db)
    feed(batched(db, settings), envelopes, size)
    assert state(db) == expected


def test_ticket_event_batch_that_fails_leaves_nothing_and_the_retry_applies_the_rest(db, settings):
    ids = seed_reports(db)
    envelopes = stream(ids, seed=3, count=30)
    expected = reference(db, settings, envelopes)
    seed_reports(db)
    poison = Envelope(type=ticket_event_type("verify"), producer="dispatch", key="T-x", correlation_id=ids[0],
                      payload={"report_id": ids[0], "merged_report_ids": [ids[1]]})  # no ticket, no state
    with_poison = [*envelopes[:10], poison, *envelopes[10:]]
    for spec in batched(db, settings):
        with pytest.raises(ValueError):  # pydantic's ValidationError: the runner will retry one by one
            spec.handler(with_poison)
    assert state(db) == state_after_seed(db)
    for spec in batched(db, settings):  # the runner's fallback: one message at a time, the poison dead-lettered
        for envelope in with_poison:
            if envelope is poison:
                with pytest.raises(ValueError):
                    spec.handler([envelope])
            else:
                spec.handler([envelope])
    assert state(db) == expected


def state_after_seed(db) -> dict[str, list[tuple]]:
    """The state right after ``seed_reports``: received reports, nothing else."""
    with db.session() as session:
        ids = sorted(session.execute(select(Report.id)).scalars())
    return {"reports": [(i, "received", None, None, None, None) for i in ids], "updates": [], "rewards": [],
            "examples": [], "handled": []}


def test_ticket_event_batch_runs_a_bounded_number_of_statements(db, settings):
    ids = seed_reports(db)
    envelopes = stream(ids, seed=11, count=100)
    counted: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        counted.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for spec in batched(db, settings):
            counted.clear()
            spec.handler(envelopes)
            # handled lookup + insert, read-ahead (reports; updates or labels; rewards), the writes: one each
            assert len(counted) <= 9, (spec.group, counted)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_verified_citizen_report_rewarded_once_across_batches(db, settings):
    ids = seed_reports(db)
    first = ticket_event(ids[0], "verify", "01002", T0, [ids[3]])
    again = ticket_event(ids[0], "verify", "01002", T0 + timedelta(hours=1), [])  # verified again after a reopen
    [follow] = [s for s in batched(db, settings) if s.group == TICKET_STATUS.group]
    follow.handler([first, again])
    follow.handler([again.model_copy(update={"id": uuid.uuid4()})])
    rewards = state(db)["rewards"]
    assert [(r[0], r[1], r[3]) for r in rewards] == [("citizen-0", ids[0], "report_verified")]  # merged one: none
