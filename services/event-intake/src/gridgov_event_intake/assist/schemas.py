"""API shapes of the seat assistant's classifier."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gridgov_common.schemas import SafeText

TEXT_MAX = 2000  # a hotline report's description is at most this long


class ClassifyRequest(BaseModel):
    """The caller's words as the operator typed them (or a citizen's description)."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[SafeText, Field(min_length=1, max_length=TEXT_MAX, description="the text to classify")]


class SuggestionRead(BaseModel):
    """One suggested middle code (中类): its name, calibrated confidence (0..1) and the department type that
    handles it under the catalog's rules."""

    code: str
    name: str | None
    confidence: float
    department_type: str | None
    department_type_name: str | None


class ClassificationRead(BaseModel):
    """The top three suggestions, or an abstention ("不确定，请人工选择") and why: ``low_confidence`` (suggestions
    listed, none to preselect), ``no_signal`` (nothing the model knows: another script, no known word), ``empty``,
    ``no_model`` (none trained yet)."""

    model_version: str | None
    abstained: bool
    reason: Literal["ok", "low_confidence", "no_model", "no_signal", "empty"]
    suggestions: list[SuggestionRead]
