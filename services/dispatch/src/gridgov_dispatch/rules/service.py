"""Queries on rule sets: the current version (cached in-process), publishing, seeding, and routing's inputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from gridgov_common.db import Database
from gridgov_common.errors import Conflict, ErrorDetail, NotFound
from gridgov_dispatch.cache import PerDatabase
from gridgov_dispatch.catalog import service as catalogs
from gridgov_dispatch.departments.models import Department
from gridgov_dispatch.rules.engine import DepartmentInfo, RoutingContext, RuleSet
from gridgov_dispatch.rules.models import RuleSetVersion
from gridgov_dispatch.rules.parsing import parse_rule_set

SEED_AUTHOR = "system"


def default_rules_data() -> dict[str, Any]:
    """The packaged default rule set (rules/default_rules.json) as JSON data."""
    text = resources.files("gridgov_dispatch.rules").joinpath("default_rules.json").read_text(encoding="utf-8")
    return json.loads(text)


def latest(session: Session) -> RuleSetVersion | None:
    """The newest published version, or None before the seed."""
    return session.exec(select(RuleSetVersion).order_by(col(RuleSetVersion.version).desc()).limit(1)).first()


def latest_or_raise(session: Session) -> RuleSetVersion:
    """The newest published version, or NotFound."""
    row = latest(session)
    if row is None:
        raise NotFound("rule set", "current")
    return row


def to_rule_set(row: RuleSetVersion) -> RuleSet:
    """The parsed rule set of a stored version."""
    return RuleSet(parse_rule_set(json.loads(row.body)).rules, row.version)


_current: PerDatabase[RuleSet] = PerDatabase()


def current_rule_set(db: Database) -> RuleSet:
    """The current rule set, cached in this process and re-read at most every 30 s (at once after a publish)."""

    def build() -> RuleSet:
        with db.session() as session:
            return to_rule_set(latest_or_raise(session))

    def is_current(rule_set: RuleSet) -> bool:
        with db.session() as session:
            return session.exec(select(func.max(RuleSetVersion.version))).one() == rule_set.version

    return _current.get(db, build, is_current=is_current)


def forget(db: Database) -> None:
    """Drop the cached rule set, so the next read loads the newest version."""
    _current.forget(db)


def publish(db: Database, data: dict[str, Any], published_by: str, note: str | None) -> RuleSetVersion:
    """Store a (validated) rule set as the next version; Conflict if another publish took that version first."""
    try:
        with db.session() as session:
            row = latest(session)
            version = (row.version if row else 0) + 1
            stored = RuleSetVersion(version=version, body=json.dumps(data, ensure_ascii=False, sort_keys=True),
                                    published_at=datetime.now(UTC), published_by=published_by, note=note)
            session.add(stored)
            session.commit()
            session.refresh(stored)
    except IntegrityError as exc:
        raise Conflict("another rule set version was published at the same time; read it and try again",
                       [ErrorDetail("version", f"version {version} already exists")]) from exc
    forget(db)
    return stored


def seed(db: Database) -> None:
    """Store the default rule set as version 1 when no version exists (idempotent, safe with two instances)."""
    for attempt in range(2):
        try:
            with db.session() as session:
                if latest(session) is not None:
                    return
                data = parse_rule_set(default_rules_data()).to_data()  # a broken packaged file fails start-up
                session.add(RuleSetVersion(version=1, body=json.dumps(data, ensure_ascii=False, sort_keys=True),
                                           published_at=datetime.now(UTC), published_by=SEED_AUTHOR,
                                           note="默认规则集"))
                session.commit()
            forget(db)
            return
        except IntegrityError:
            if attempt:  # another instance seeded concurrently; one retry sees its row
                raise


def department_infos(session: Session) -> list[DepartmentInfo]:
    """Every department as routing sees it (a department without the catalog's columns is its own city bureau)."""
    rows = session.exec(select(Department)).all()
    return [DepartmentInfo(code=d.code, department_type=getattr(d, "department_type", None) or d.code,
                           level=getattr(d, "level", None) or "city", town_code=getattr(d, "town_code", None),
                           active=d.active)
            for d in rows]


def department_names(session: Session) -> dict[str, str]:
    """Each department's Chinese name by code."""
    return {d.code: d.name_zh for d in session.exec(select(Department)).all()}


def routing_context(session: Session) -> RoutingContext:
    """The departments rules resolve to, in the city's time zone."""
    return RoutingContext.of(department_infos(session))


def category_codes(db: Database) -> list[str]:
    """Every reportable category code: the middle classes of dispatch's current event catalog."""
    return catalogs.current_catalog(db).codes("middle")
