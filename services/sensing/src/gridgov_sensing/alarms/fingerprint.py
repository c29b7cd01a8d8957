"""An alarm's fingerprint (指纹), pure: the dedupe key of its alarm group and its bus key.

Each alarm type declares the fields its fingerprint is made of (default: catalog code, device, grid, so one
device's repeats of one problem fold into one group, and a device moved to another grid starts a new one). The
fields are encoded canonically — every name and value length-prefixed, a null marked apart from an empty string,
the field list itself part of the input — so no two different inputs share an encoding (``a|bc`` vs ``ab|c``).
A declared field the alarm does not carry is refused, never hashed as empty: an alarm without the label its type
groups by would otherwise fold into the group of every other alarm lacking it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from gridgov_common.errors import ErrorDetail, ValidationFailed

DEFAULT_FIELDS: tuple[str, ...] = ("catalog_code", "device_id", "grid_code")
BASE_FIELDS: frozenset[str] = frozenset(
    {"catalog_code", "alarm_type", "device_id", "grid_code", "village_code", "town_code"})
LABEL_PREFIX = "label."
FINGERPRINT_LENGTH = 32  # hex chars: 128 bits, far beyond any collision risk at city scale
MAX_FIELDS = 10
_VERSION = b"fp1"  # a change of encoding is a new version, so old and new keys never meet by accident
_LABEL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class MissingFingerprintField(ValidationFailed):
    """An alarm lacks a field its type's fingerprint is made of; ``api_field`` is where the alarm would carry it."""

    def __init__(self, field: str):
        self.field = field
        self.api_field = label_api_field(field)
        super().__init__("fingerprint field missing",
                         [ErrorDetail(self.api_field, f"required by the alarm type's fingerprint ({field})")])


def label_api_field(field: str) -> str:
    """The request field a fingerprint field comes from: ``label.zone`` → ``labels.zone``, others unchanged."""
    return "labels." + field[len(LABEL_PREFIX):] if field.startswith(LABEL_PREFIX) else field


def check_fields(fields: Sequence[str]) -> list[str]:
    """The problems of a declared field list (empty when usable): known names or ``label.<name>``, no repeats."""
    problems: list[str] = []
    if not fields:
        problems.append("at least one field")
    if len(fields) > MAX_FIELDS:
        problems.append(f"at most {MAX_FIELDS} fields")
    seen: set[str] = set()
    for f in fields:
        if f in seen:
            problems.append(f"{f}: listed twice")
        seen.add(f)
        if f in BASE_FIELDS:
            continue
        if f.startswith(LABEL_PREFIX) and _LABEL_NAME.match(f[len(LABEL_PREFIX):]):
            continue
        problems.append(f"{f}: not one of {', '.join(sorted(BASE_FIELDS))} or label.<name>")
    return problems


def values_of(catalog_code: str, alarm_type: str, device_id: str, grid_code: str | None,
              village_code: str | None, town_code: str | None, labels: Mapping[str, str]) -> dict[str, str | None]:
    """The mapping ``fingerprint`` reads, from an alarm, its type's catalog code and its device's place."""
    values: dict[str, str | None] = {"catalog_code": catalog_code, "alarm_type": alarm_type, "device_id": device_id,
                                     "grid_code": grid_code, "village_code": village_code, "town_code": town_code}
    for name, value in labels.items():
        values[LABEL_PREFIX + name] = value
    return values


def _chunk(text: str | None) -> bytes:
    if text is None:
        return b"~"  # null: no length-prefixed string starts with "~"
    raw = text.encode("utf-8")
    return str(len(raw)).encode("ascii") + b":" + raw


def fingerprint(fields: Sequence[str], values: Mapping[str, str | None]) -> str:
    """The fingerprint of an alarm: hex sha256 of the canonical encoding of its declared fields, 32 chars."""
    h = hashlib.sha256(_VERSION)
    h.update(_chunk(str(len(fields))))
    for f in fields:
        if f not in values:
            raise MissingFingerprintField(f)
        h.update(_chunk(f))
        h.update(_chunk(values[f]))
    return h.hexdigest()[:FINGERPRINT_LENGTH]
