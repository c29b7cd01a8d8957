"""The one envelope every bus message travels in (see ARCHITECTURE.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, Field, ValidationError
from pydantic_core import to_jsonable_python

from gridgov_common.ids import new_uuid


class MalformedMessage(Exception):
    """A bus message that is not a valid envelope; it goes to the DLQ without retries."""


class Envelope(BaseModel):
    """A message on the bus: identity, type, provenance and a typed payload (a dict on the wire)."""

    id: uuid.UUID = Field(default_factory=new_uuid)  # time-ordered: keys of handled tables
    type: str
    version: int = 1
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    key: str
    correlation_id: str
    causation_id: str | None = None
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        """Serialise for the wire (UTF-8 JSON): the same fields as pydantic's ``model_dump_json``, by orjson."""
        # orjson writes the time as +00:00 where pydantic wrote Z: both parse to the same instant. The payload is
        # already JSON-ready (``new_envelope`` dumps it in JSON mode); anything else goes through pydantic's own
        # conversion, and what orjson refuses (an integer beyond 64 bits) through pydantic whole.
        try:
            return orjson.dumps({
                "id": str(self.id), "type": self.type, "version": self.version, "occurred_at": self.occurred_at,
                "producer": self.producer, "key": self.key, "correlation_id": self.correlation_id,
                "causation_id": self.causation_id, "payload": self.payload,
            }, default=to_jsonable_python)
        except (TypeError, orjson.JSONEncodeError):
            return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse from the wire; raises MalformedMessage with the reason when it is not an envelope."""
        try:
            # orjson parses, pydantic checks the envelope's fields once; the payload stays a dict that the
            # consumer validates once, into its own event model.
            return cls.model_validate(orjson.loads(raw))
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
