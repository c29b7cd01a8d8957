"""API shapes of reports."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gridgov_common.categories import is_known

DESCRIPTION_MAX = 2000


class PatrolReportCreate(BaseModel):
    """A grid worker's patrol report: category, WGS84 location, description."""

    model_config = ConfigDict(extra="forbid")

    category_code: str = Field(pattern=r"^\d{5}$", description="event category, 2+3 digits, e.g. 01002")
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    lon: float = Field(ge=-180, le=180, description="WGS84 longitude")
    lat: float = Field(ge=-90, le=90, description="WGS84 latitude")

    @field_validator("category_code")
    @classmethod
    def _known_category(cls, code: str) -> str:
        if not is_known(code):
            raise ValueError(f"unknown category {code}")
        return code


class ReportAccepted(BaseModel):
    """The answer to an accepted report (202)."""

    report_id: str
    status: str


class ReportRead(BaseModel):
    """A report and where it stands."""

    id: str
    channel: str
    category_code: str
    description: str
    lon: float | None
    lat: float | None
    reporter_id: str
    status: str
    ticket_id: str | None
    department: str | None
    deadline: datetime | None
    submitted_at: datetime
    updated_at: datetime
