import pytest

from gridgov_common.auth import Principal
from gridgov_common.errors import Forbidden, IllegalTransition, status_for
from gridgov_common.i18n import ACTIONS_ZH
from gridgov_dispatch.tickets import lifecycle
from gridgov_dispatch.tickets.access import (
    SYSTEM,
    ListScope,
    SystemActor,
    TicketFacts,
    authorize_view,
    list_scope,
)
from gridgov_dispatch.tickets.lifecycle import ACTIONS, STATES, Action, State, apply
from gridgov_dispatch.worktime.clock import is_overdue

GRID = "441900001001001"
FACTS = TicketFacts(department="water", grid_code=GRID)

WATER = Principal(sub="d1", role="dept_dispatcher", department="water")
HOUSING = Principal(sub="d2", role="dept_dispatcher", department="housing")
WORKER = Principal(sub="g1", role="grid_worker", grid=GRID)
OTHER_WORKER = Principal(sub="g2", role="grid_worker", grid="441900001001002")
CENTRE = Principal(sub="c1", role="command_centre")
ADMIN = Principal(sub="a1", role="admin")
CITIZEN = Principal(sub="z1", role="citizen")

# The expected table, written out independently of lifecycle.TRANSITIONS.
EXPECTED = {
    (None, "register"): "registered",
    ("registered", "dispatch"): "dispatched",
    ("registered", "handle"): "handled",  # 自行处置: the system records a grid worker's on-the-spot fix
    ("dispatched", "claim"): "claimed",
    ("claimed", "handle"): "handled",
    ("handled", "verify"): "verified",
    ("handled", "rework"): "claimed",
    ("verified", "close"): "closed",
    ("dispatched", "return"): "returned",
    ("claimed", "return"): "returned",
    ("returned", "rule_return"): "dispatched",
    ("claimed", "request_extension"): "extension_requested",
    ("extension_requested", "approve_extension"): "claimed",
    ("extension_requested", "refuse_extension"): "claimed",
    ("claimed", "suspend"): "suspended",
    ("suspended", "resume"): "claimed",
    ("closed", "reopen"): "claimed",
    **{(s, "supervise"): s for s in ("dispatched", "claimed", "handled", "returned", "extension_requested",
                                     "suspended")},
    **{(s, a): s for s in ("dispatched", "claimed", "handled") for a in ("warn", "escalate")},
    # Issue #16: a sensing device's evidence on any open case, the state unchanged.
    **{(s, "sensor_evidence"): s for s in ("registered", "dispatched", "claimed", "handled", "verified", "returned",
                                           "extension_requested", "suspended")},
}
ENTITLED = {
    "register": SYSTEM,
    "dispatch": CENTRE,
    "claim": WATER,
    "handle": WATER,
    "verify": WORKER,
    "rework": WORKER,
    "close": CENTRE,
    "return": WATER,
    "rule_return": CENTRE,
    "request_extension": WATER,
    "approve_extension": CENTRE,
    "refuse_extension": CENTRE,
    "suspend": CENTRE,
    "resume": CENTRE,
    "supervise": CENTRE,
    "reopen": CENTRE,
    "warn": SYSTEM,
    "escalate": SYSTEM,
    "sensor_evidence": SYSTEM,
}
# Where a row admits someone else than the action's usual actor.
ENTITLED_AT = {("registered", "handle"): SYSTEM}
# The rows only the system takes: a refusal tells a person of the other rows alone.
SYSTEM_ONLY = {(None, "register"), ("registered", "handle"),
               *((s, a) for (s, a) in EXPECTED if a in ("warn", "escalate", "sensor_evidence"))}


@pytest.mark.parametrize("state", [None, *STATES], ids=lambda s: s or "new")
@pytest.mark.parametrize("action", ACTIONS)
def test_apply_every_state_and_action_follows_table(state, action):
    key = (state.value if state else None, action.value)
    actor = ENTITLED_AT.get(key, ENTITLED[action.value])
    if key in EXPECTED:
        assert apply(state, action, actor, FACTS) == State(EXPECTED[key])
    else:
        with pytest.raises(IllegalTransition) as caught:
            apply(state, action, actor, FACTS)
        allowed = [a for (s, a) in EXPECTED if s == key[0] and (actor is SYSTEM or (s, a) not in SYSTEM_ONLY)]
        assert sorted(caught.value.allowed) == sorted(allowed)
        assert status_for(caught.value) == 409
        assert (state.value if state else "new") in caught.value.message


def test_apply_close_unclaimed_ticket_names_allowed_action():
    with pytest.raises(IllegalTransition, match="allowed: claim, return"):
        apply(State.DISPATCHED, Action.CLOSE, CENTRE, FACTS)


def test_apply_unknown_action_is_illegal():
    with pytest.raises(IllegalTransition) as caught:
        apply(State.CLAIMED, "teleport", CENTRE, FACTS)
    assert caught.value.allowed == ["return", "handle", "request_extension", "suspend", "supervise"]


def test_a_refusal_names_the_system_s_own_steps_to_the_system_alone():
    with pytest.raises(IllegalTransition) as caught:
        apply(State.HANDLED, Action.CLAIM, WATER, FACTS)
    assert caught.value.allowed == ["verify", "rework", "supervise"]
    assert "warn" not in caught.value.message and "sensor_evidence" not in caught.value.message
    with pytest.raises(IllegalTransition) as caught:
        apply(State.HANDLED, Action.CLAIM, SYSTEM, FACTS)
    assert caught.value.allowed == ["verify", "rework", "supervise", "warn", "escalate", "sensor_evidence"]
    assert lifecycle.allowed_actions(None, "dept_dispatcher") == []  # only the system registers


def test_apply_closed_ticket_allows_only_reopen():
    assert lifecycle.allowed_actions(State.CLOSED) == ["reopen"]
    for action in ACTIONS:
        if action is Action.REOPEN:
            continue
        with pytest.raises(IllegalTransition, match="allowed: reopen"):
            apply(State.CLOSED, action, ENTITLED[action.value], FACTS)


def test_apply_reopen_closed_ticket_by_department_is_forbidden():
    with pytest.raises(Forbidden):
        apply(State.CLOSED, Action.REOPEN, WATER, FACTS)
    assert apply(State.CLOSED, Action.REOPEN, SYSTEM, FACTS) is State.CLAIMED


def test_paused_states_have_no_running_clock():
    assert lifecycle.PAUSED_STATES.isdisjoint(lifecycle.STAGE_OF)
    assert set(lifecycle.STAGE_OF) | lifecycle.PAUSED_STATES | {"registered", "verified", "closed"} == {
        s.value for s in STATES}


@pytest.mark.parametrize(
    ("state", "action", "actor", "field"),
    [
        (State.DISPATCHED, Action.CLAIM, HOUSING, "department"),  # another department's ticket
        (State.DISPATCHED, Action.CLAIM, CENTRE, "role"),
        (State.DISPATCHED, Action.CLAIM, Principal(sub="d3", role="dept_dispatcher"), "department"),
        (State.CLAIMED, Action.HANDLE, HOUSING, "department"),
        (State.CLAIMED, Action.HANDLE, WORKER, "role"),
        (State.HANDLED, Action.VERIFY, OTHER_WORKER, "grid"),
        (State.HANDLED, Action.REWORK, OTHER_WORKER, "grid"),
        (State.HANDLED, Action.VERIFY, WATER, "role"),
        (State.VERIFIED, Action.CLOSE, OTHER_WORKER, "grid"),
        (State.VERIFIED, Action.CLOSE, WATER, "role"),
        (State.VERIFIED, Action.CLOSE, ADMIN, "role"),
        (State.REGISTERED, Action.DISPATCH, WATER, "role"),
        (State.DISPATCHED, Action.RETURN, HOUSING, "department"),
        (State.RETURNED, Action.RULE_RETURN, WATER, "role"),
        (State.EXTENSION_REQUESTED, Action.APPROVE_EXTENSION, WATER, "role"),
        (State.CLAIMED, Action.SUSPEND, WATER, "role"),
        (State.CLAIMED, Action.SUPERVISE, ADMIN, "role"),
        (State.CLAIMED, Action.ESCALATE, CENTRE, "role"),
        (None, Action.REGISTER, CENTRE, "role"),
    ],
)
def test_apply_wrong_actor_is_forbidden(state, action, actor, field):
    with pytest.raises(Forbidden) as caught:
        apply(state, action, actor, FACTS)
    assert status_for(caught.value) == 403
    assert caught.value.details[0].field == field


def test_apply_close_by_ticket_grid_worker_closes():
    assert apply(State.VERIFIED, Action.CLOSE, WORKER, FACTS) is State.CLOSED


def test_apply_verify_ticket_without_grid_is_forbidden_to_grid_workers():
    with pytest.raises(Forbidden):
        apply(State.HANDLED, Action.VERIFY, WORKER, TicketFacts("water", None))


def test_roles_for_action_lists_the_table_roles():
    assert lifecycle.roles_for(Action.CLAIM) == ("dept_dispatcher",)
    assert set(lifecycle.roles_for(Action.CLOSE)) == {"command_centre", "grid_worker"}
    assert lifecycle.roles_for(Action.VERIFY) == ("grid_worker", "system")


def test_available_actions_depend_on_actor():
    assert lifecycle.available_actions(State.HANDLED, WORKER, FACTS) == ["verify", "rework"]
    assert lifecycle.available_actions(State.HANDLED, OTHER_WORKER, FACTS) == []
    assert lifecycle.available_actions(State.DISPATCHED, WATER, FACTS) == ["claim", "return"]
    assert lifecycle.available_actions(State.CLAIMED, CENTRE, FACTS) == ["suspend", "supervise"]
    assert lifecycle.available_actions(State.DISPATCHED, HOUSING, FACTS) == []


@pytest.mark.parametrize(
    ("actor", "visible"),
    [(WATER, True), (HOUSING, False), (WORKER, True), (OTHER_WORKER, False), (CENTRE, True), (ADMIN, True),
     (CITIZEN, False)],
)
def test_authorize_view_ticket_by_role_and_scope(actor, visible):
    if visible:
        authorize_view(actor, FACTS)
    else:
        with pytest.raises(Forbidden):
            authorize_view(actor, FACTS)


def test_list_scope_restricts_dispatchers_and_workers():
    assert list_scope(WATER) == ListScope(department="water")
    assert list_scope(WORKER) == ListScope(grid_code=GRID)
    assert list_scope(CENTRE) == ListScope()
    for actor in (CITIZEN, Principal(sub="d", role="dept_dispatcher"), Principal(sub="g", role="grid_worker")):
        with pytest.raises(Forbidden):
            list_scope(actor)


def test_is_overdue_only_past_deadline():
    from datetime import UTC, datetime, timedelta

    now = datetime(2025, 3, 3, 9, tzinfo=UTC)
    assert is_overdue(now - timedelta(seconds=1), now)
    assert not is_overdue(now, now)
    assert not is_overdue(now + timedelta(hours=1), now)
    assert not is_overdue(None, now)


def test_apply_handle_registered_ticket_by_department_is_forbidden():
    with pytest.raises(Forbidden):
        apply(State.REGISTERED, Action.HANDLE, WATER, FACTS)


# --- issue #16: a sensing device's evidence and its "resolved" as verification -----------------------------------

SENSING = SystemActor(sub="system:sensing")


def test_apply_system_verifies_a_handled_ticket_outside_any_grid_scope():
    # The device's "resolved" verifies wherever the ticket is (no grid of its own); a worker of another grid may not.
    assert apply(State.HANDLED, Action.VERIFY, SENSING, TicketFacts("water", None)) is State.VERIFIED
    with pytest.raises(Forbidden):
        apply(State.HANDLED, Action.VERIFY, OTHER_WORKER, FACTS)


@pytest.mark.parametrize("actor", [WORKER, WATER, CENTRE, ADMIN, CITIZEN])
def test_apply_sensor_evidence_is_the_system_s_alone(actor):
    with pytest.raises(Forbidden):
        apply(State.HANDLED, Action.SENSOR_EVIDENCE, actor, FACTS)


def test_apply_sensor_evidence_on_closed_ticket_is_illegal():
    with pytest.raises(IllegalTransition) as caught:
        apply(State.CLOSED, Action.SENSOR_EVIDENCE, SENSING, FACTS)
    assert caught.value.allowed == ["reopen"]


def test_sensor_actions_resolved_that_verifies_on_handled_own_ticket_verifies():
    assert lifecycle.sensor_actions(State.HANDLED, resolved=True, resolved_verifies=True, own_report=True) == (
        Action.SENSOR_EVIDENCE, Action.VERIFY)


@pytest.mark.parametrize(("state", "resolved", "verifies", "own"), [
    (State.HANDLED, True, False, True),  # the alarm type does not let a device verify: the grid worker does
    (State.HANDLED, False, True, True),  # a repeat is evidence only
    (State.CLAIMED, True, True, True),  # not awaiting verification yet: the department still handles it
    (State.DISPATCHED, True, True, True),
    (State.VERIFIED, True, True, True),  # verified already
    (State.SUSPENDED, True, True, True),
    (State.HANDLED, True, True, False),  # a device whose report was merged into another's case only adds evidence
])
def test_sensor_actions_otherwise_records_evidence_only(state, resolved, verifies, own):
    assert lifecycle.sensor_actions(state, resolved=resolved, resolved_verifies=verifies, own_report=own) == (
        Action.SENSOR_EVIDENCE,)


def test_sensor_actions_on_closed_ticket_do_nothing():
    assert lifecycle.sensor_actions("closed", resolved=True, resolved_verifies=True, own_report=True) == ()


def test_sensor_actions_are_rows_the_system_may_take_in_order():
    # Whatever sensor_actions returns, the table takes in that order from that state, for the system.
    for state in STATES:
        for resolved in (False, True):
            current = state
            for action in lifecycle.sensor_actions(state, resolved=resolved, resolved_verifies=True, own_report=True):
                current = apply(current, action, SENSING, FACTS)
            if state is State.HANDLED and resolved:
                assert current is State.VERIFIED
            else:
                assert current is state


def test_every_action_has_a_chinese_name_for_the_errors_that_list_them():
    # an illegal step's error lists the actions allowed, translated (a missing name showed as sensor_evidence)
    assert [a.value for a in Action if a.value not in ACTIONS_ZH] == []
