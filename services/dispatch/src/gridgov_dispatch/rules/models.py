"""Published rule sets (派遣规则版本) as dispatch stores them: one row per version, never changed after."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_dispatch.tables import DispatchTable


class RuleSetVersion(DispatchTable, table=True):
    """One published version of the rule set: its JSON body, who published it, when and why."""

    __tablename__ = "rule_set"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    body: str = Field(sa_type=sa.Text)  # JSON {"rules": [...]}, as parse_rule_set reads it
    published_at: datetime
    published_by: str = Field(max_length=100)
    note: str | None = Field(default=None, max_length=500)
