"""The system's own register and dispatch steps build their ticket event without validating it again (issue #18):
for random tickets the event equals the validated one field for field (values, their types, the fields set, the
JSON), a rule-set value that validation would refuse is refused as before, and the register consumer's events
are the validated ones."""

import random
import string
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from gridgov_common.bus.envelope import new_envelope
from gridgov_common.db import Database
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_common.events.tickets import NOTE_MAX, TicketEvent
from gridgov_common.migrations import upgrade_to_head
from gridgov_common.settings import CommonSettings
from gridgov_dispatch.app import MIGRATIONS
from gridgov_dispatch.catalog import service as catalogs
from gridgov_dispatch.consumers import REGISTER, consumer_specs
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.tables import metadata
from gridgov_dispatch.tickets import lifecycle
from gridgov_dispatch.tickets.access import SYSTEM
from gridgov_dispatch.tickets.lifecycle import State

TEXT = string.ascii_letters + string.digits + " -_:.,;/\t\n" + "燃气管道破裂路面积水派遣规则命中"


def _text(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(TEXT) for _ in range(rng.randint(low, high)))


def _maybe(rng: random.Random, value):
    return None if rng.random() < 0.3 else value


def _moment(rng: random.Random) -> datetime:
    tz = rng.choice([UTC, timezone(timedelta(hours=8)), None])  # a SQLite row's datetime comes back naive
    shift = timedelta(seconds=rng.randint(0, 10**8), microseconds=rng.randint(0, 999999))
    return datetime(2026, 1, 1, tzinfo=tz) + shift


def random_ticket(rng: random.Random) -> SimpleNamespace:
    """A ticket as the register consumer holds it: plain values within the event's limits, the state an enum or not."""
    state = rng.choice(list(State))
    return SimpleNamespace(
        id=str(uuid.UUID(int=rng.getrandbits(128))), report_id=_text(rng, 1, 100),
        state=state if rng.random() < 0.5 else state.value, category_code=_text(rng, 1, 64),
        department=_maybe(rng, _text(rng, 1, 64)), grid_code=_maybe(rng, _text(rng, 1, 64)),
        village_code=_maybe(rng, _text(rng, 1, 64)), town_code=_maybe(rng, _text(rng, 1, 64)),
        reporter_id=_text(rng, 1, 256), deadline=_maybe(rng, _moment(rng)), priority=rng.choice(["normal", "urgent"]),
        channel=_maybe(rng, rng.choice(["patrol", "hotline", "citizen", "open311", "video_ai", "iot"])),
        stage=_maybe(rng, rng.choice(["claim", "handle", "verify"])), deadline_provisional=rng.random() < 0.2,
        sla_level=rng.choice(["green", "yellow", "red"]), escalation_level=rng.randint(0, 3),
        supervised=rng.random() < 0.2)


def both(ticket, action: str, source, note, at) -> tuple[TicketEvent, TicketEvent]:
    """The trusted event and the validated one of the same step."""
    trusted = lifecycle.ticket_event(ticket, action, source, SYSTEM, note, at, [], trusted=True)
    validated = lifecycle.ticket_event(ticket, action, source, SYSTEM, note, at, [])
    return trusted, validated


def assert_same(trusted: TicketEvent, validated: TicketEvent) -> None:
    """Equal field for field, with the same types, the same fields set and the same JSON."""
    assert trusted == validated
    for name in TicketEvent.model_fields:
        assert type(getattr(trusted, name)) is type(getattr(validated, name)), name
        assert getattr(trusted, name) == getattr(validated, name), name
    assert trusted.model_fields_set == validated.model_fields_set
    assert trusted.model_dump(mode="json") == validated.model_dump(mode="json")
    assert trusted.model_dump_json() == validated.model_dump_json()
    assert lifecycle.event_envelope(trusted, "c").payload == lifecycle.event_envelope(validated, "c").payload


@pytest.mark.parametrize("seed", range(20))
def test_trusted_event_equals_the_validated_one_for_random_tickets(seed):
    rng = random.Random(seed)
    for _ in range(50):
        ticket = random_ticket(rng)
        source = rng.choice([None, State.REGISTERED.value, "dispatched"])
        note = _maybe(rng, _text(rng, 0, NOTE_MAX if rng.random() < 0.05 else 300))
        trusted, validated = both(ticket, rng.choice(["register", "dispatch"]), source, note, _moment(rng))
        assert_same(trusted, validated)


@pytest.mark.parametrize(("name", "value"), [
    ("note", "x" * (NOTE_MAX + 1)), ("note", "bad\x00note"), ("note", "bell\x07"), ("note", 42),
    ("department", "d" * 65), ("department", "d\x1bept"), ("department", 7),
    ("priority", "p" * 65), ("priority", "\x7f"), ("priority", ["urgent"]),
])
def test_a_rule_set_value_validation_refuses_is_refused_as_before(name, value):
    ticket = random_ticket(random.Random(1))
    note = value if name == "note" else "routed by rule r1"
    if name != "note":
        setattr(ticket, name, value)
    with pytest.raises(ValidationError) as validated:
        lifecycle.ticket_event(ticket, "dispatch", "registered", SYSTEM, note, datetime.now(UTC), [])
    with pytest.raises(ValidationError) as trusted:
        lifecycle.ticket_event(ticket, "dispatch", "registered", SYSTEM, note, datetime.now(UTC), [], trusted=True)
    assert str(trusted.value) == str(validated.value)


def test_an_untrusted_event_is_validated():
    ticket = random_ticket(random.Random(2))
    ticket.grid_code = "g" * 65  # not a rule-set value: only the trusted steps skip its check
    with pytest.raises(ValidationError):
        lifecycle.ticket_event(ticket, "claim", "dispatched", SYSTEM, None, datetime.now(UTC), [])


def _located(i: int) -> object:
    report_id = str(uuid.uuid4())
    report = ReportReceived(report_id=report_id, channel=["patrol", "hotline", "citizen"][i % 3],
                            category_code=["04002", "04003", "01001"][i % 3], description="自来水管破裂，路面冒水",
                            lon=113.75, lat=23.02, reporter_id=f"gw-{i}", reporter_role="grid_worker",
                            submitted_at=datetime.now(UTC), urgency="urgent" if i % 4 == 0 else "normal")
    location = Location(status="located", grid_code="441900001001001", village_code="441900001001",
                        town_code="441900001")
    return new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id,
                        payload=ReportLocated(report=report, location=location), correlation_id=report_id)


def test_the_register_consumer_publishes_the_validated_events(tmp_path: Path, monkeypatch):
    built: list[str] = []
    construct = lifecycle._trusted_event

    def checked(values):
        validated = TicketEvent(**values)
        event = construct(dict(values))
        assert event is not None
        assert_same(event, validated)
        built.append(event.action)
        return event

    monkeypatch.setattr(lifecycle, "_trusted_event", checked)
    db = Database(f"sqlite:///{tmp_path / 'dispatch.db'}", metadata, "dispatch")
    upgrade_to_head(db, MIGRATIONS)
    departments.seed(db)
    catalogs.seed(db)
    rule_sets.seed(db)
    ctx = DispatchContext(db, DispatchSettings(common=CommonSettings(data_dir=tmp_path, log_json=False),
                                               sla_scan_seconds=0))
    [spec] = [s for s in consumer_specs(ctx) if s.group == REGISTER.group]
    spec.handler([_located(i) for i in range(30)])
    db.engine.dispose()
    assert built.count("register") == 30 and built.count("dispatch") > 0
