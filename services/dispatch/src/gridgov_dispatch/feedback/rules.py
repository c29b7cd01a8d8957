"""When a rating reopens a case (回访不满意 → 返工), and the note that says why. Pure: values in, values out."""

from __future__ import annotations

from datetime import datetime, timedelta

from gridgov_common.events.feedback import OPERATOR_PREFIX, FeedbackReceived

# A rating of a closure more than this before the ticket's current closure rates an earlier one.
SAME_CLOSURE = timedelta(seconds=1)


def is_bad(solved: bool, satisfaction: int, satisfaction_max: int) -> bool:
    """A bad rating: the problem is not solved, or satisfaction is at or below the configured maximum (≤ 2)."""
    return not solved or satisfaction <= satisfaction_max


def why_not_reopen(state: str, department: str | None, closed_at: datetime | None,
                   rated_closure: datetime | None) -> str | None:
    """Why a bad rating leaves the ticket as it is (None: reopen it).

    Only a closed ticket reopens; one reopened already (by another reporter's rating, or the command centre)
    is left alone, and so is one closed again after the closure this rating is about.
    """
    if state != "closed":
        return f"the ticket is {state}, not closed (reopened already?)"
    if department is None:
        return "the ticket has no department to rework it (handled on the spot)"
    if rated_closure is not None and closed_at is not None and closed_at - rated_closure > SAME_CLOSURE:
        return "the rating is about an earlier closure; the ticket was closed again since"
    return None


def reopen_note(feedback: FeedbackReceived) -> str:
    """The audit note of a reopen, quoting the rating."""
    by = "12345 回访" if feedback.answered_by.startswith(OPERATOR_PREFIX) else "回访"
    solved = "已解决" if feedback.solved else "未解决"
    note = f"{by}不满意：{solved}，满意度 {feedback.satisfaction}/5"
    if feedback.comment:
        note += f"，评价：“{feedback.comment}”"
    return f"{note}（回访 {feedback.followup_id}）"
