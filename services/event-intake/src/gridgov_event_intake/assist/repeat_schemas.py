"""API shapes of the repeat-caller offer (重复来电)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from gridgov_common.schemas import SafeText
from gridgov_event_intake.reports.schemas import DESCRIPTION_MAX, PHONE_PATTERN


class RepeatQuery(BaseModel):
    """Who is calling and what they say now, as the operator types it."""

    model_config = ConfigDict(extra="forbid")

    caller_phone: str = Field(pattern=PHONE_PATTERN, description="the caller's phone, as on the hotline order")
    text: Annotated[SafeText, Field(min_length=1, max_length=DESCRIPTION_MAX, description="what the caller says")]


class RepeatItem(BaseModel):
    """An open report of the same caller whose text is alike: attach the call to it with ``repeat_of``."""

    report_id: str
    description: str
    category_code: str
    submitted_at: datetime
    status: str
    similarity: float = Field(description="Jaccard similarity of the texts' characters and bigrams, 0..1")


class RepeatPage(BaseModel):
    """The caller's open cases alike to the call, most alike first (at most 5); empty: a new case."""

    items: list[RepeatItem]
