"""Use cases of grid-registry: seed the demo grid set, build the locator, locate a point or a report."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import REPORTS_LOCATED
from gridgov_common.db import Database
from gridgov_common.events.reports import (
    REPORT_LOCATED,
    REPORT_RECEIVED,
    Location,
    ReportLocated,
    ReportReceived,
)
from gridgov_grid_registry.grids import service
from gridgov_grid_registry.grids.areas import LEVELS, GridSetRecord
from gridgov_grid_registry.grids.demo import demo_grid_set
from gridgov_grid_registry.grids.index import GridIndex, Locator
from gridgov_grid_registry.grids.models import Area, GridSet

log = logging.getLogger(__name__)

SERVICE = "grid-registry"
LOCATE_CONSUMER = "grid-registry.locate"


def store_grid_set(db: Database, grid_set: GridSetRecord, *, activate: bool) -> bool:
    """Store a whole grid set in one transaction; False if that version is already stored.

    Idempotent across processes: the version is the primary key, so a second process storing the same set
    at the same moment fails on the key and rolls back, leaving the first one's rows.
    """
    now = datetime.now(UTC)
    ordered = sorted(grid_set.areas, key=lambda a: (LEVELS.index(a.level), a.code))  # parents first
    with db.session() as session:
        if session.get(GridSet, grid_set.version) is not None:
            return False
        try:
            session.add(GridSet(version=grid_set.version, description=grid_set.description, active=activate,
                                created_at=now))
            session.flush()
            session.add_all(Area(grid_set=grid_set.version, code=a.code, level=a.level, name=a.name,
                                 parent_code=a.parent_code, geometry=a.geometry) for a in ordered)
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("grid set %s was stored by another process", grid_set.version)
            return False
    log.info("stored grid set %s: %d areas", grid_set.version, len(ordered))
    return True


def seed_demo(db: Database) -> bool:
    """Store and activate the demo grid set if the registry holds no grid set yet."""
    with db.session() as session:
        if service.any_grid_set(session):
            return False
    return store_grid_set(db, demo_grid_set(), activate=True)


def load_locator(db: Database, kind: str = "auto") -> Locator:
    """The active grid set's locator: PostGIS on PostgreSQL (or when asked), else an in-memory STRtree."""
    with db.session() as session:
        active = service.active_grid_set(session)
        version = active.version if active else None
        if kind == "postgis" or (kind == "auto" and not db.is_sqlite):
            return service.PostgisLocator(db.engine, version)
        areas = service.list_areas(session, version)
    return GridIndex(areas, version)


def locate_point(locator: Locator, lon: float, lat: float) -> Location:
    """Where a WGS84 point falls in the active grid set."""
    return locator.locate(lon, lat)


def locate_report(db: Database, locator: Locator, session: Session, envelope: Envelope) -> None:
    """Locate a received report and stage ``report.located`` in the consumer's transaction."""
    if envelope.type != REPORT_RECEIVED:
        return
    report = ReportReceived.model_validate(envelope.payload)
    location = locator.locate(report.lon, report.lat)
    located = new_envelope(
        type=REPORT_LOCATED, producer=SERVICE, key=report.report_id,
        payload=ReportLocated(report=report, location=location),
        correlation_id=envelope.correlation_id, causation_id=str(envelope.id),
    )
    db.add_outbox(session, REPORTS_LOCATED, located)
    log.info("report %s %s: grid %s, town %s", report.report_id, location.status, location.grid_code,
             location.town_code)
