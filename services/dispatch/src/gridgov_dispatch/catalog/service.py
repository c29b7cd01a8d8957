"""Queries on the event catalog: versions, their items, storing a new version, seeding, the cached current one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from gridgov_common import categories
from gridgov_common.db import Database
from gridgov_common.errors import Conflict, ErrorDetail, NotFound
from gridgov_dispatch.cache import PerDatabase
from gridgov_dispatch.catalog.items import Catalog, CatalogItem, TimeLimit, parse_csv
from gridgov_dispatch.catalog.models import CatalogItemRow, CatalogVersion
from gridgov_dispatch.departments.seed import DEPARTMENT_TYPES

SEED_PUBLISHER = "seed"


def seed_csv() -> str:
    """The packaged first catalog version as text: ``gridgov_common/catalog_seed.csv``, the one file that other
    services also read until they learn a published version."""
    return categories.seed_csv()


def _limit(amount: int | None, unit: str | None) -> TimeLimit | None:
    return None if amount is None or unit is None else TimeLimit(amount, unit)  # type: ignore[arg-type]


def to_item(row: CatalogItemRow) -> CatalogItem:
    """A stored row as a catalog item."""
    return CatalogItem(code=row.code, level=row.level, parent_code=row.parent_code,  # type: ignore[arg-type]
                       name_zh=row.name_zh, name_en=row.name_en, department_type=row.department_type,
                       filing_conditions=row.filing_conditions, closing_conditions=row.closing_conditions,
                       claim=_limit(row.claim_amount, row.claim_unit),
                       handle=_limit(row.handle_amount, row.handle_unit),
                       verify=_limit(row.verify_amount, row.verify_unit), legal_basis=row.legal_basis)


def to_row(version: int, item: CatalogItem) -> CatalogItemRow:
    """A catalog item as a row of ``version``."""
    limits = {}
    for stage in ("claim", "handle", "verify"):
        limit: TimeLimit | None = getattr(item, stage)
        limits[f"{stage}_amount"] = limit.amount if limit else None
        limits[f"{stage}_unit"] = limit.unit if limit else None
    return CatalogItemRow(version=version, code=item.code, level=item.level, parent_code=item.parent_code,
                          name_zh=item.name_zh, name_en=item.name_en, department_type=item.department_type,
                          filing_conditions=item.filing_conditions, closing_conditions=item.closing_conditions,
                          legal_basis=item.legal_basis, **limits)


def latest_version(session: Session) -> CatalogVersion | None:
    """The current (highest) version, or None before seeding."""
    return session.exec(select(CatalogVersion).order_by(CatalogVersion.version.desc()).limit(1)).first()


def latest_version_number(session: Session) -> int | None:
    """The current version number, or None before seeding (a cheap check for the cache)."""
    return session.exec(select(func.max(CatalogVersion.version))).one()


def get_version_or_raise(session: Session, version: int | None) -> CatalogVersion:
    """The given version, or the current one when ``version`` is None; NotFound if there is none."""
    row = latest_version(session) if version is None else session.get(CatalogVersion, version)
    if row is None:
        raise NotFound("catalog version", "current" if version is None else str(version))
    return row


def list_versions(session: Session) -> list[CatalogVersion]:
    """Every version, newest first."""
    return list(session.exec(select(CatalogVersion).order_by(CatalogVersion.version.desc())).all())


def list_items(session: Session, version: int) -> list[CatalogItem]:
    """The items of one version, by code."""
    rows = session.exec(select(CatalogItemRow).where(CatalogItemRow.version == version)
                        .order_by(CatalogItemRow.code)).all()
    return [to_item(r) for r in rows]


def store(session: Session, items: list[CatalogItem], *, published_by: str, note: str | None,
          at: datetime | None = None, version: int | None = None) -> CatalogVersion:
    """Add a version holding ``items`` (the next number unless given); the caller commits."""
    number = version if version is not None else (latest_version_number(session) or 0) + 1
    head = CatalogVersion(version=number, published_at=at or datetime.now(UTC), published_by=published_by,
                          note=note, item_count=len(items))
    session.add(head)
    session.flush()  # the version row first: the items refer to it
    session.add_all([to_row(number, item) for item in items])
    return head


def commit_version(session: Session) -> None:
    """Commit a stored version; a concurrent publish of the same number is a Conflict."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("another catalog version was published at the same time; retry",
                       [ErrorDetail("version", "taken by a concurrent import")]) from None


def seed(db: Database) -> None:
    """Store version 1 from the packaged seed.csv when no version exists (idempotent; safe with two instances)."""
    with db.session() as session:
        if latest_version_number(session) is not None:
            return
    items = parse_csv(seed_csv(), DEPARTMENT_TYPES)
    try:
        with db.session() as session:
            store(session, items, published_by=SEED_PUBLISHER, note="seed catalog (gridgov_common/catalog_seed.csv)",
                  version=1)
            session.commit()
    except IntegrityError:
        with db.session() as session:  # another instance seeded at the same moment: its version 1 stands
            if session.get(CatalogVersion, 1) is None:
                raise


_current: PerDatabase[Catalog] = PerDatabase()


def load_catalog(session: Session, version: int | None = None) -> Catalog:
    """A version (default the current one) as a Catalog for lookups."""
    head = get_version_or_raise(session, version)
    return Catalog(list_items(session, head.version), head.version)


def current_catalog(db: Database) -> Catalog:
    """The current catalog, cached in-process: re-checked at most every 30 s, at once after a local import."""

    def build() -> Catalog:
        with db.session() as session:
            return load_catalog(session)

    def is_current(catalog: Catalog) -> bool:
        with db.session() as session:
            return latest_version_number(session) == catalog.version

    return _current.get(db, build, is_current=is_current)


def forget_cached(db: Database) -> None:
    """Drop the cached catalog, so the next ``current_catalog`` reads the database (after a local import)."""
    _current.forget(db)
