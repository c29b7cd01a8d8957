"""Queries and guarded writes on the suppression rules, and the engine's view of them (cached by version)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov_sensing.devices.service import bump_version
from gridgov_sensing.suppression.engine import Rule
from gridgov_sensing.suppression.models import SuppressionRule

VERSION_NAME = "suppression_rules"  # the sensing_version counter every rule change moves on


def utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def engine_rule(row: SuppressionRule) -> Rule:
    """The engine's rule of a stored row."""
    return Rule(id=row.id, kind=row.kind, mode=row.mode, starts_at=utc(row.starts_at),  # type: ignore[arg-type]
                ends_at=utc(row.ends_at), device_ids=frozenset(row.device_ids or ()),
                area_codes=frozenset(row.area_codes or ()), alarm_types=frozenset(row.alarm_types or ()),
                source_types=frozenset(row.source_types or ()), equal=tuple(row.equal or ()),
                min_confidence=row.min_confidence)


def all_rows(session: Session) -> list[SuppressionRule]:
    """Every rule, oldest first (the engine's order: the first enforced match names the verdict)."""
    return list(session.execute(select(SuppressionRule).order_by(SuppressionRule.created_at,
                                                                 SuppressionRule.id)).scalars())


def changed(session: Session) -> None:
    """Move the rules' version on in the caller's transaction: every process reloads them."""
    bump_version(session, VERSION_NAME)


class RuleBook:
    """The rules of one database as the engine reads them, reloaded when their version moved."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._rules: tuple[Rule, ...] = ()

    def rules(self, session: Session, version: int) -> tuple[Rule, ...]:
        """The rules at this version (one query when it moved)."""
        with self._lock:
            if version != self._version:
                self._rules = tuple(engine_rule(r) for r in all_rows(session))
                self._version = version
            return self._rules


def inhibit_sources(rules: Sequence[Rule]) -> frozenset[str]:
    """The superior alarm types any inhibit rule names (no need to look for sources when empty)."""
    return frozenset(t for r in rules if r.kind == "inhibit" for t in r.source_types)
