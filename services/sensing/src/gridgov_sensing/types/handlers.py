"""Use cases of alarm types: seed them at start, read them, change one (an administrator)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from gridgov_common.categories import seed_csv
from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_sensing.alarms.durations import duration_seconds, format_duration
from gridgov_sensing.alarms.fingerprint import DEFAULT_FIELDS
from gridgov_sensing.devices.service import bump_version
from gridgov_sensing.types import service
from gridgov_sensing.types.models import AlarmType
from gridgov_sensing.types.schemas import AlarmTypeRead, AlarmTypeUpdate
from gridgov_sensing.types.seed import ALARM_TYPES


def row_of(spec: Mapping[str, Any], now: datetime) -> AlarmType:
    """A table row from a seed entry (windows as durations, defaults as the contract gives them)."""
    return AlarmType(code=spec["code"], name_zh=spec["name_zh"], kind=spec["kind"], catalog_code=spec["catalog_code"],
                     fingerprint_fields=list(spec.get("fingerprint_fields") or DEFAULT_FIELDS),
                     dedupe_window_s=duration_seconds(spec.get("dedupe_window", "30m")),
                     case_policy=spec.get("case_policy", "auto"), min_confidence=spec.get("min_confidence"),
                     resolved_verifies=bool(spec.get("resolved_verifies", False)),
                     flap_threshold=int(spec.get("flap_threshold", 4)),
                     flap_window_s=duration_seconds(spec.get("flap_window", "1h")), updated_at=now)


def catalog_codes() -> frozenset[str]:
    """Every code of the packaged catalog (any level: an alarm type may name a minor class, e.g. 2200101)."""
    return frozenset(row["code"].strip() for row in csv.DictReader(io.StringIO(seed_csv())))


def seed_alarm_types(db: Database, entries: Iterable[Mapping[str, Any]] | None = None) -> int:
    """Store the seed's types the database lacks; how many were added."""
    now = datetime.now(UTC)
    entries = ALARM_TYPES if entries is None else entries
    with db.session() as session:
        added = service.add_missing(session, [row_of(spec, now) for spec in entries])
        session.commit()
    return added


def read_of(row: AlarmType) -> AlarmTypeRead:
    """The API shape of a stored type."""
    return AlarmTypeRead(code=row.code, name_zh=row.name_zh, kind=row.kind, catalog_code=row.catalog_code,
                         fingerprint_fields=list(row.fingerprint_fields),
                         dedupe_window=format_duration(row.dedupe_window_s), case_policy=row.case_policy,
                         min_confidence=row.min_confidence, resolved_verifies=row.resolved_verifies,
                         flap_threshold=row.flap_threshold, flap_window=format_duration(row.flap_window_s),
                         updated_at=row.updated_at)


def list_alarm_types(db: Database) -> list[AlarmTypeRead]:
    """Every alarm type."""
    with db.session() as session:
        return [read_of(row) for row in service.list_types(session)]


def update_alarm_type(db: Database, code: str, change: AlarmTypeUpdate) -> AlarmTypeRead:
    """Change an alarm type; the catalog code must be one the city's catalog knows."""
    if change.catalog_code not in catalog_codes():
        error = ValidationFailed("unknown catalog code", [ErrorDetail("catalog_code", "not a code of the catalog",
                                                                      "不是事项目录中的编码")])
        error.message_zh = "事项编码不存在"
        raise error
    with db.session() as session:
        row = service.get_or_raise(session, code)
        for name, value in change.model_dump(exclude={"dedupe_window", "flap_window"}).items():
            setattr(row, name, value)
        row.dedupe_window_s = duration_seconds(change.dedupe_window)
        row.flap_window_s = duration_seconds(change.flap_window)
        row.updated_at = datetime.now(UTC)
        session.add(row)
        bump_version(session, "alarm_types")
        session.commit()
        session.refresh(row)
        return read_of(row)
