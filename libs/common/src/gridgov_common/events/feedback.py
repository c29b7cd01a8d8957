"""Payloads on ``gridgov.feedback.received``: a reporter's answer to a follow-up (回访), keyed by ticket id."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from gridgov_common.events.reports import Code, Id, Subject
from gridgov_common.schemas import Integer, SafeText

FEEDBACK_RECEIVED_TYPE = "feedback.received"  # the envelope type (the topic is bus.topics.FEEDBACK_RECEIVED)
COMMENT_MAX = 500
REPORTER = "reporter"
OPERATOR_PREFIX = "operator:"  # a 12345 operator recorded the answer of a call-back: "operator:<sub>"


def operator(sub: str) -> str:
    """The ``answered_by`` of an answer a 12345 operator recorded on the caller's behalf."""
    return f"{OPERATOR_PREFIX}{sub}"


class FeedbackReceived(BaseModel):
    """The reporter's rating of a closed ticket (满意度): solved or not, satisfaction 1–5 and a comment."""

    followup_id: Id
    ticket_id: Id
    report_id: Id  # the report this reporter made (the ticket's own, or one merged into it)
    reporter_id: Subject
    channel: Code | None = None  # patrol | hotline | citizen | open311; None when intake's channel is not known
    solved: bool
    satisfaction: Integer = Field(ge=1, le=5)
    comment: SafeText | None = Field(default=None, max_length=COMMENT_MAX)
    answered_at: datetime
    answered_by: SafeText = Field(pattern=r"^(reporter|operator:.+)$", max_length=120)
    # Additive: the closure the reporter rated (the ticket.closed event's time), so a late rating of an earlier
    # closure does not reopen a case closed again since.
    closed_at: datetime | None = None
