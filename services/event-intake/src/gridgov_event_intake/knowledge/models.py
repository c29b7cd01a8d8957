"""Knowledge-base articles as event-intake stores them."""

from datetime import date, datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field

from gridgov_event_intake.tables import IntakeTable


class KnowledgeArticle(IntakeTable, table=True):
    """One answer the 12345 operator may give on the call (直接答复): a question, its answer, who is responsible,
    and the days it holds (valid_from .. valid_to, both included, China time; no valid_to: until changed).

    ``version`` counts the changes: a PUT names the version it read (optimistic concurrency).
    """

    __tablename__ = "knowledge_article"

    id: str = Field(primary_key=True, max_length=36)
    question: str = Field(max_length=500)
    answer: str = Field(max_length=2000)  # no longer than a hotline report's answer, which it becomes
    department: str | None = Field(default=None, max_length=50, index=True)
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    valid_from: date
    valid_to: date | None = None
    source: str = Field(max_length=200)
    created_by: str = Field(max_length=100)
    created_at: datetime
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(index=True)
    version: int = 1
