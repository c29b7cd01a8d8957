"""The seat assistant's tables: trained classifier versions (with their artefact) and labelled texts learned from
the city's corrections."""

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary, false
from sqlmodel import Field

from gridgov_event_intake.tables import IntakeTable


class AssistModel(IntakeTable, table=True):
    """One trained version of the category classifier (分类模型版本); at most one is active (the one in use)."""

    __tablename__ = "assist_models"

    version: str = Field(primary_key=True, max_length=40)
    created_at: datetime = Field(index=True)
    # What training and evaluation measured (see ``assist.evaluate``), and the training set's make-up.
    metrics: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    artefact: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # model.Artefact.to_bytes(): npz
    active: bool = Field(default=False, index=True, sa_column_kwargs={"server_default": false()})
    activated_at: datetime | None = None
    generated_examples: int = 0  # texts from the generator (or the catalog)
    correction_examples: int = 0  # texts from the city's corrections (assist_examples)


class AssistExample(IntakeTable, table=True):
    """A labelled text from a correction (纠错样本): a report's own description and the category its ticket ended
    with after a return ruling (退单裁定) or a re-categorisation; one per report, the latest category wins."""

    __tablename__ = "assist_examples"

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(max_length=36, unique=True)
    text: str = Field(max_length=2000)
    code: str = Field(max_length=10)
    source: str = Field(default="correction", max_length=20)
    created_at: datetime
    updated_at: datetime
