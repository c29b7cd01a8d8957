"""API shapes of follow-ups (回访): only what the reporter may see, and their answer."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gridgov_common.events.feedback import COMMENT_MAX
from gridgov_common.schemas import Integer

TOKEN_MAX = 64


class FollowupRead(BaseModel):
    """A follow-up as the holder of its link sees it: the ticket's outcome and whether it was answered.

    Never another reporter's data: no reporter ids, no other report ids, no phone numbers.
    """

    ticket_id: str
    category_code: str
    category_name: str | None = Field(description="the event catalog's name of the category, e.g. 暴露垃圾")
    closed_note: str | None = Field(description="the closing remarks (结案说明)")
    closed_at: datetime = Field(description="when the ticket was closed")
    expires_at: datetime = Field(description="answers are taken until then")
    expired: bool
    callback: bool = Field(description="a 12345 call-back: an operator (command_centre) records the caller's answer")
    answered: bool
    answered_at: datetime | None
    solved: bool | None
    satisfaction: int | None
    comment: str | None


class FollowupAnswer(BaseModel):
    """The reporter's answer (回访结果): solved or not, satisfaction 1 (very dissatisfied) to 5 (very satisfied)."""

    model_config = ConfigDict(extra="forbid")

    solved: bool = Field(description="whether the problem was solved")
    satisfaction: Integer = Field(ge=1, le=5, description="满意度 1–5")
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)
