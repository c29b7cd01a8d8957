"""API shapes of the read model's administration: its state and a rebuild."""

from __future__ import annotations

from pydantic import BaseModel


class RebuildRead(BaseModel):
    """The cube generation a rebuild started, and its consumer group."""

    generation: int
    group: str


class CubeStatusRead(BaseModel):
    """The read model's state: generation, facts and totals per measure by origin."""

    generation: int
    group: str
    facts: int
    history_facts: int
    bus: dict[str, int]
    history: dict[str, int]
