"""The one envelope every bus message travels in (see ARCHITECTURE.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, ValidationError


class MalformedMessage(Exception):
    """A bus message that is not a valid envelope; it goes to the DLQ without retries."""


class Envelope(BaseModel):
    """A message on the bus: identity, type, provenance and a typed payload (a dict on the wire)."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int = 1
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    key: str
    correlation_id: str
    causation_id: str | None = None
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        """Serialise for the wire (UTF-8 JSON)."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse from the wire; raises MalformedMessage with the reason when it is not an envelope."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            raise MalformedMessage(f"not a gridgov envelope: {exc.errors()[:3]}") from exc
        except ValueError as exc:
            raise MalformedMessage(f"not JSON: {exc}") from exc


def new_envelope(
    *,
    type: str,
    producer: str,
    key: str,
    payload: BaseModel,
    correlation_id: str,
    causation_id: str | None = None,
    version: int = 1,
) -> Envelope:
    """Build an envelope around a payload model."""
    return Envelope(
        type=type,
        version=version,
        producer=producer,
        key=key,
        correlation_id=correlation_id,
        causation_id=causation_id,
        payload=payload.model_dump(mode="json"),
    )
