"""Past ratings for the history's bulk loader (``tickets.backfill``): the stored row of a reporter's answer, and
whether dispatch reopens the case after it — the same rules (``feedback.rules``) as a live rating's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gridgov_common.events.feedback import FeedbackReceived
from gridgov_dispatch.feedback import rules
from gridgov_dispatch.feedback.models import TicketRating


class Ratings:
    """The feedback rules a history load applies, with the service's reopen threshold."""

    table = TicketRating.__table__

    def __init__(self, reopen_satisfaction_max: int):
        self.reopen_satisfaction_max = reopen_satisfaction_max

    def row(self, feedback: FeedbackReceived) -> dict[str, Any]:
        """The ``ticket_rating`` row of a reporter's answer."""
        return {"followup_id": feedback.followup_id, "ticket_id": feedback.ticket_id,
                "reporter_id": feedback.reporter_id, "solved": feedback.solved,
                "satisfaction": feedback.satisfaction, "answered_at": feedback.answered_at}

    def reopen_note(self, feedback: FeedbackReceived, state: str, department: str | None,
                    closed_at: datetime | None) -> str | None:
        """The reopen's audit note when the rating is bad and the case may reopen (回访不满意 → 返工), else None."""
        if not rules.is_bad(feedback.solved, feedback.satisfaction, self.reopen_satisfaction_max):
            return None
        if rules.why_not_reopen(state, department, closed_at, feedback.closed_at) is not None:
            return None
        return rules.reopen_note(feedback)
