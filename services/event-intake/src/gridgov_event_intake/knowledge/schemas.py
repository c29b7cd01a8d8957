"""API shapes of the knowledge base and of the direct-answer rate."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from gridgov_common.schemas import SafeText

QUESTION_MAX = 500
ANSWER_MAX = 2000  # a hotline report's answer holds at most this: the article's answer must fit
KEYWORDS_MAX = 20
QUERY_MAX = 200
# A word or short phrase: no blank one, no leading or trailing space.
Keyword = Annotated[SafeText, Field(min_length=1, max_length=30, pattern=r"^\S(.*\S)?$")]


class ArticleWrite(BaseModel):
    """An article as the command centre writes it (create, or replace with PUT)."""

    model_config = ConfigDict(extra="forbid")

    question: Annotated[SafeText, Field(min_length=2, max_length=QUESTION_MAX,
                                        description="the question as a caller would ask it")]
    answer: Annotated[SafeText, Field(min_length=2, max_length=ANSWER_MAX,
                                      description="the answer the operator gives (直接答复)")]
    department: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{1,49}$",
                                   description="code of the responsible department, e.g. human-resources")
    keywords: list[Keyword] = Field(default_factory=list, max_length=KEYWORDS_MAX,
                                    description="other words callers use for it (search)")
    valid_from: date | None = Field(default=None, description="first day it holds (China time); default today")
    valid_to: date | None = Field(default=None, description="last day it holds (included); none: until changed")
    source: Annotated[SafeText, Field(min_length=1, max_length=200,
                                      description="where the answer comes from (a policy, a department's notice)")]


class ArticleReplace(ArticleWrite):
    """A PUT body: the article's new content and the version it was read at (or send it in If-Match)."""

    version: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                description="the version read; required unless If-Match names it")


class ArticleRead(BaseModel):
    """An article, with who wrote it and when, and whether it holds today."""

    id: str
    question: str
    answer: str
    department: str | None
    keywords: list[str]
    valid_from: date
    valid_to: date | None
    valid_today: bool
    source: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    version: int


class ArticlePage(BaseModel):
    """A page of articles, newest change first, and how many there are in all."""

    items: list[ArticleRead]
    total: int


class SearchHit(BaseModel):
    """An article proposed for the operator's text, with its BM25 score (higher is better)."""

    id: str
    question: str
    answer: str
    department: str | None
    valid_from: date
    valid_to: date | None
    source: str
    score: float


class SearchResult(BaseModel):
    """The articles valid today that best match the text, best first; empty when nothing matches."""

    items: list[SearchHit]


class RateRead(BaseModel):
    """A rate with the counts it is made of; ``value`` is null when the denominator is 0."""

    value: float | None
    numerator: int
    denominator: int


class DirectAnswerRead(BaseModel):
    """直接答复率 of a period: the 12345 orders answered on the call, of all 12345 orders taken."""

    period: str
    start: datetime = Field(description="Start of the period (China time, included).")
    end: datetime = Field(description="End of the period (China time, excluded).")
    generated_at: datetime
    hotline_orders: int = Field(description="12345 work orders taken in the period")
    answered_directly: int = Field(description="of them, answered on the call and closed at intake (直接答复)")
    answered_from_knowledge_base: int = Field(description="of those, answered with a knowledge-base article")
    repeat_calls: int = Field(description="重复来电 recorded on an open case: calls, not orders (not counted above)")
    direct_answer_rate: RateRead = Field(description="直接答复率 = answered directly ÷ hotline orders")
