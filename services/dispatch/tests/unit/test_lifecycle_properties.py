from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov_common.auth import Principal
from gridgov_common.errors import Forbidden, IllegalTransition
from gridgov_dispatch.tickets.access import SYSTEM, TicketFacts
from gridgov_dispatch.tickets.lifecycle import ACTIONS, STATES, TRANSITIONS, State, allowed_actions, apply

GRID = "441900001001001"
FACTS = TicketFacts(department="water", grid_code=GRID)
WATER = Principal(sub="d1", role="dept_dispatcher", department="water")
WORKER = Principal(sub="g1", role="grid_worker", grid=GRID)
CENTRE = Principal(sub="c1", role="command_centre")
ACTORS = [
    SYSTEM, WATER, WORKER, CENTRE,
    Principal(sub="d2", role="dept_dispatcher", department="housing"),
    Principal(sub="g2", role="grid_worker", grid="441900001001002"),
    Principal(sub="a1", role="admin"),
    Principal(sub="z1", role="citizen"),
]
ENTITLED = {"register": SYSTEM, "dispatch": CENTRE, "claim": WATER, "handle": WATER,
            "verify": WORKER, "rework": WORKER, "close": WORKER, "return": WATER, "rule_return": CENTRE,
            "request_extension": WATER, "approve_extension": CENTRE, "refuse_extension": CENTRE,
            "suspend": CENTRE, "resume": CENTRE, "supervise": CENTRE, "reopen": SYSTEM, "warn": SYSTEM,
            "escalate": SYSTEM, "sensor_evidence": SYSTEM}
TABLE = {(t.source, t.action.value): t.target for t in TRANSITIONS}
ANY_ACTION = [a.value for a in ACTIONS] + ["bogus"]
REACHED: set[State] = set()


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_apply_any_action_sequence_stays_inside_table(data):
    state: State | None = None
    for _ in range(data.draw(st.integers(0, 40), label="length")):
        # Half the steps are an allowed action by an entitled actor, so runs get deep into the machine;
        # the others are anything by anyone.
        allowed = allowed_actions(state)
        if allowed and data.draw(st.booleans(), label="valid step"):
            action = data.draw(st.sampled_from(allowed), label="action")
            actor = ENTITLED[action]
        else:
            action = data.draw(st.sampled_from(ANY_ACTION), label="action")
            actor = data.draw(st.sampled_from(ACTORS), label="actor")
        before = state
        try:
            state = apply(state, action, actor, FACTS)
        except (IllegalTransition, Forbidden):
            assert state == before
            continue
        assert state in STATES
        assert TABLE[(before, action)] == state, "a transition that is not a row of the table"
        assert before is not State.CLOSED or action == "reopen", "only a reopen leaves a closed ticket"
        REACHED.add(state)


def test_apply_random_sequences_reached_every_state():
    # Runs after the property test (file order): its sequences did exercise the whole machine.
    if not REACHED:
        test_apply_any_action_sequence_stays_inside_table()
    assert REACHED == set(STATES)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ANY_ACTION), st.sampled_from(ACTORS)), max_size=20))
def test_apply_closed_ticket_leaves_only_by_reopen_of_system_or_centre(sequence):
    for action, actor in sequence:
        try:
            target = apply(State.CLOSED, action, actor, FACTS)
        except IllegalTransition as exc:
            assert exc.allowed == ["reopen"]
        except Forbidden:
            assert action == "reopen" and actor.role not in ("system", "command_centre")
        else:
            assert (action, actor.role, target) in {("reopen", "system", State.CLAIMED),
                                                    ("reopen", "command_centre", State.CLAIMED)}


def test_table_states_are_all_reachable_and_every_state_can_reach_closed():
    reachable, frontier = set(), [None]
    while frontier:
        source = frontier.pop()
        for (s, _action), target in TABLE.items():
            if s == source and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(STATES)
    # No state is a dead end: from each one some path of rows leads to 结案.
    for start in STATES:
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for (s, _action), target in TABLE.items():
                if s == here and target not in seen:
                    seen.add(target)
                    todo.append(target)
        assert State.CLOSED in seen, f"{start} cannot reach closed"
