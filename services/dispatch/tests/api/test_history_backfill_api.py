"""The history's bulk loader (tickets/backfill.py): past cases become tickets routed by the rules, checked by the
lifecycle table, timed by the SLA clock, with their audit trail and events; re-running it changes nothing; the API
shows them. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from gridgov_common.demo_names import person_name_of
from gridgov_common.events.feedback import FeedbackReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.feedback.backfill import Ratings
from gridgov_dispatch.feedback.models import TicketRating
from gridgov_dispatch.tickets.backfill import Loader
from gridgov_dispatch.tickets.models import Ticket, TicketTransition

GRID, VILLAGE, TOWN = "441900006001001", "441900006001", "441900006"
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Dongguan


@dataclass(frozen=True)
class S:
    action: str
    value: float


@dataclass(frozen=True)
class R:
    satisfaction: int
    solved: bool


@dataclass
class Case:
    n: int
    steps: tuple[S, ...]
    category_code: str = "01002"  # 暴露垃圾: class 01 → urban management
    submitted_at: datetime = NOW - timedelta(days=10)
    rating: R | None = None
    handled_on_spot: bool = False
    channel: str = "patrol"
    description: str = "路边暴露垃圾"
    lon: float = 113.755
    lat: float = 23.045
    reporter_id: str = "gw-1"
    checker_id: str = ""  # "": the loader writes gw-<grid>
    grid_code: str = GRID
    village_code: str = VILLAGE
    town_code: str = TOWN
    ticket_id: str | None = field(init=False)
    report_id: str = field(init=False)

    def __post_init__(self):
        self.ticket_id = f"00000000-0000-4000-8000-{self.n:012d}"
        self.report_id = f"00000000-0000-4000-9000-{self.n:012d}"


FAST = (S("dispatch", 0), S("claim", 0.3), S("handle", 0.4), S("verify", 0.3), S("close", 1.0))
CASES = [
    Case(1, FAST),
    Case(2, (S("dispatch", 0), S("claim", 0.3), S("handle", 2.5), S("verify", 0.3), S("close", 1.0))),  # late
    Case(3, (S("dispatch", 0), S("return", 0.2), S("rule_return", 3.0), *FAST[1:])),  # 退单, re-dispatched
    Case(4, (*FAST[:3], S("rework", 0.5), S("handle", 0.5), *FAST[3:]), checker_id="wang.wu"),  # 返工
    Case(5, (*FAST, S("rate", 24.0)), rating=R(5, True)),
    Case(6, (*FAST, S("rate", 24.0), S("reopen", 0), S("handle", 0.5), S("verify", 0.3), S("close", 1.0)),
         rating=R(1, False)),  # 回访不满意 → reopened
    Case(7, (S("verify", 0.3), S("close", 0.5)), handled_on_spot=True),  # 自行处置
    Case(8, FAST, submitted_at=NOW - timedelta(hours=1)),  # the backlog: still open at NOW
    Case(9, FAST, category_code="27001", channel="hotline", reporter_id="hotline:GD1",
         description="拖欠工资"),  # the hotline wage-arrears rule: human resources, urgent
]


def _load(stack):
    ctx = DispatchContext(stack.runtime.db, stack.runtime.settings)
    loader = Loader(ctx, NOW, Ratings(ctx.settings.reopen_satisfaction_max))
    return list(loader.load(CASES, chunk=4))


def test_backfill_loads_past_cases_as_the_rules_and_clock_make_them_and_a_rerun_changes_nothing(any_stack):
    chunks = _load(any_stack)
    assert [c.tickets for c in chunks] == [4, 4, 1]
    events = [e for c in chunks for e in c.events]
    db = any_stack.runtime.db
    with db.session() as session:
        tickets = {t.report_id: t for t in session.exec(select(Ticket)).scalars()}
        trail = {}
        for tr in session.exec(select(TicketTransition).order_by(TicketTransition.seq)).scalars():
            trail.setdefault(tr.ticket_id, []).append(tr)
        ratings = session.exec(select(TicketRating)).scalars().all()
    assert len(tickets) == 9
    by_n = {c.n: tickets[c.report_id] for c in CASES}
    actions = {n: [tr.action for tr in trail[t.id]] for n, t in by_n.items()}
    # Routed by the rule set, every audit row numbered 1..version, the closed ones closed.
    assert by_n[1].department == "urban-management" and by_n[1].first_department == "urban-management"
    assert by_n[9].department == "human-resources" and by_n[9].priority == "urgent"
    for n, t in by_n.items():
        assert [tr.seq for tr in trail[t.id]] == list(range(1, t.version + 1)), n
        if n != 8:
            assert t.state == "closed" and t.closed_at is not None and t.next_check_at is None, n
    assert actions[1][:2] == ["register", "dispatch"] and actions[1][-1] == "close"
    # Late: the SLA clock warned, then escalated at the deadline, before the handling came.
    late = actions[2]
    assert late.index("warn") < late.index("escalate") < late.index("handle")
    assert "escalate" not in actions[1]
    esc = next(tr for tr in trail[by_n[2].id] if tr.action == "escalate")
    handled = next(tr for tr in trail[by_n[2].id] if tr.action == "handle")
    assert esc.at < handled.at
    assert by_n[3].return_count == 1 and actions[3][2:4] == ["return", "rule_return"]
    assert by_n[4].rework_count == 1 and "rework" in actions[4]
    # The grid's checks are the case's grid worker's (a roster id), or gw-<grid> where the plan names none.
    checks = {n: {(tr.actor_id, tr.actor_role) for tr in trail[t.id] if tr.action in ("verify", "rework", "close")}
              for n, t in by_n.items()}
    assert checks[4] == {("wang.wu", "grid_worker")} and checks[1] == {(f"gw-{GRID}", "grid_worker")}
    # A department's steps carry its dispatcher's made-up name, as a live step carries the name its token had; the
    # grid's checks leave it to the roster, the system's steps have none (the command centre's rulings have one too).
    claims = {(tr.actor_id, tr.actor_name) for tr in trail[by_n[1].id] if tr.action in ("claim", "handle")}
    assert claims == {("urban-management-dispatcher", person_name_of("urban-management-dispatcher"))}
    assert all(tr.actor_name is None for tr in trail[by_n[1].id] if tr.actor_role in ("system", "grid_worker"))
    assert by_n[6].rework_count == 1 and actions[6].count("close") == 2 and "reopen" in actions[6]
    assert by_n[7].department is None and actions[7] == ["register", "handle", "verify", "close"]
    # The backlog case is open, claimed or further, with its clock still to run.
    assert by_n[8].state != "closed" and by_n[8].deadline is not None
    assert by_n[8].next_check_at is None or by_n[8].next_check_at > NOW
    assert max(tr.at for tr in trail[by_n[8].id]) <= NOW
    assert sorted((r.satisfaction, r.solved) for r in ratings) == [(1, False), (5, True)]
    # The events are those a live transition publishes: one per audit row, valid on the bus, plus the ratings.
    ticket_events = [p for name, p in events if name.startswith("ticket.")]
    assert len(ticket_events) == sum(len(v) for v in trail.values())
    for name, payload in events:
        model = TicketEvent if name.startswith("ticket.") else FeedbackReceived
        assert type(payload) is model and model.model_validate(payload.model_dump()) == payload
    closes = [p for p in ticket_events if p.ticket_id == by_n[1].id]
    assert [p.action for p in closes][-1] == "close" and closes[-1].to_state == "closed"
    assert closes[1].department == "urban-management" and closes[1].deadline is not None
    # Finals for intake: each report's ticket state.
    finals = {k: v for c in chunks for k, v in c.finals.items()}
    assert finals[CASES[0].report_id][0] == "closed" and finals[CASES[7].report_id][0] == by_n[8].state

    again = _load(any_stack)  # an interrupted run completes: same ids, nothing twice
    assert [c.tickets for c in again] == [4, 4, 1]
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(TicketTransition)).scalar_one() == \
            sum(len(v) for v in trail.values())
        assert session.exec(select(func.count()).select_from(Ticket)).scalar_one() == 9

    # The API shows the history like any ticket.
    page = any_stack.client.get("/v1/tickets", params={"state": "closed", "limit": 50},
                                headers=any_stack.token("command_centre"))
    assert page.status_code == 200, page.text
    assert len(page.json()["items"]) == 8
