"""Use cases of the SLA clocks: the scan that gives every ticket whose moment has come its warning (预警) or
escalation steps (升级), each as a ticket transition."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from gridgov_common.errors import Conflict
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.sla import scanner
from gridgov_dispatch.tickets import service as tickets
from gridgov_dispatch.tickets import transitions
from gridgov_dispatch.tickets.access import SYSTEM
from gridgov_dispatch.tickets.lifecycle import Action
from gridgov_dispatch.tickets.models import clock_of
from gridgov_dispatch.worktime import clock as clocks

log = logging.getLogger(__name__)


def scan_sla(ctx: DispatchContext, now: datetime | None = None, limit: int = 500) -> int:
    """Give every ticket whose SLA moment has come its warning (预警) or escalation steps (升级); how many steps.

    One transaction per ticket, version-guarded: a user's transition or another instance's scan that got
    there first wins, and this scan leaves that ticket to its next pass.
    """
    now = now or datetime.now(UTC)
    ctx = ctx.snapshot()
    cal, share = ctx.calendar(), ctx.warning_share
    with ctx.db.session() as session:
        due = [(t.id, t.version) for t in scanner.due(session, now, limit)]
    taken = 0
    for ticket_id, version in due:
        try:
            with ctx.db.session() as session:
                ticket = tickets.get_or_raise(session, ticket_id)
                if ticket.version != version:
                    continue
                steps, after = clocks.due_steps(cal, clock_of(ticket), now, share)
                if not steps:  # nothing owed yet (e.g. a calendar change moved the moment): look again later
                    tickets.update_unversioned(session, ticket, version, {"next_check_at": after.next_check_at})
                for step in steps:
                    transitions.transition(ctx, session, ticket, Action(step.action), SYSTEM, note=step.note, now=now,
                                           clock=after if step is steps[-1] else None,
                                           changes={"sla_level": "yellow" if step.action == "warn" else "red",
                                                    "escalation_level": step.level or ticket.escalation_level})
                session.commit()
                taken += len(steps)
        except Conflict:
            log.info("ticket %s changed while its SLA was scanned; the next pass looks again", ticket_id)
    return taken
