"""The base of event-intake's tables: its own metadata, never shared with another service."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class IntakeTable(SQLModel, registry=registry()):
    """Base class of every event-intake table."""


metadata = IntakeTable.metadata
