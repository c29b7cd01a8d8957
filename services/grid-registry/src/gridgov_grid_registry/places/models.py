"""Roads and landmarks a city imports for the gazetteer (地名库): a name, its aliases, a point."""

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field

from gridgov_grid_registry.tables import RegistryTable


class Landmark(RegistryTable, table=True):
    """A road (道路) or landmark (地标) by name, with the point the gazetteer places it at (WGS84).

    Not tied to a grid set: the gazetteer locates each point in the set in effect when it is built, so a new
    grid set places the same landmarks again.
    """

    __tablename__ = "place_landmark"
    __table_args__ = (CheckConstraint("kind IN ('road', 'landmark')", name="ck_place_landmark_kind"),)

    name: str = Field(primary_key=True, max_length=100)
    aliases: str = Field(default="", max_length=500)  # '|'-separated
    kind: str = Field(max_length=10)
    lon: float
    lat: float
    source: str = Field(max_length=40)  # seed | import
    updated_at: datetime = Field(index=True)
