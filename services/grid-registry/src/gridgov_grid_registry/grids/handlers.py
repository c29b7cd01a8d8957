"""Use cases of grids: store, import and seed grid sets, locate points and reports. The locator of the set in
effect is ``grids.locator``; the map cache is ``grids.map_cache``."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any, Protocol

import numpy as np
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from gridgov_common import geo
from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import REPORTS_LOCATED
from gridgov_common.db import Database
from gridgov_common.errors import Conflict, ErrorDetail, ValidationFailed
from gridgov_common.events.reports import (
    REPORT_LOCATED,
    Location,
    PlaceMatch,
    ReportReceived,
)
from gridgov_grid_registry.grids import service
from gridgov_grid_registry.grids.areas import LEVELS, GridSetRecord
from gridgov_grid_registry.grids.demo import DEMO_VERSION
from gridgov_grid_registry.grids.generator import generate
from gridgov_grid_registry.grids.geojson import DEFAULT_MAPPING, read_features
from gridgov_grid_registry.grids.geometry import AreaGeometry
from gridgov_grid_registry.grids.index import Locator, usable
from gridgov_grid_registry.grids.models import Area, GridSet
from gridgov_grid_registry.grids.validation import ValidationOptions, ValidationReport, validate

log = logging.getLogger(__name__)

SERVICE = "grid-registry"
DEMO_PREFIX = "demo-"  # versions of generated demo sets: a newer demo replaces them, never an imported set
Progress = Callable[[str, int, int], None]
_INSERT_CHUNK = 2000


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


def store_grid_set(db: Database, grid_set: GridSetRecord, *, effective_from: datetime | None,
                   source: str | None = None, progress: Progress = _noop) -> bool:
    """Store a whole grid set in one transaction; False if that version is already stored.

    Idempotent across processes: the version is the primary key, so a second process storing the same set
    at the same moment fails on the key and rolls back, leaving the first one's rows.
    """
    ordered = sorted(grid_set.areas, key=lambda a: (LEVELS.index(a.level), a.code))  # parents first
    with db.session() as session:
        if session.get(GridSet, grid_set.version) is not None:
            return False
        try:
            session.add(GridSet(version=grid_set.version, description=grid_set.description[:200],
                                effective_from=effective_from, source=source[:200] if source else None,
                                created_at=datetime.now(UTC)))
            session.flush()
            if db.is_sqlite:
                for start in range(0, len(ordered), _INSERT_CHUNK):
                    chunk = ordered[start:start + _INSERT_CHUNK]
                    session.execute(insert(Area), [
                        {"grid_set": grid_set.version, "code": a.code, "level": a.level, "name": a.name,
                         "parent_code": a.parent_code, "geometry": a.geometry} for a in chunk])
                    progress("store", start + len(chunk), len(ordered))
            else:
                _copy_areas(session, grid_set.version, ordered, progress)
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("grid set %s was stored by another process", grid_set.version)
            return False
    if not db.is_sqlite:
        # Fresh statistics, or the planner guesses a sequential scan per point until autovacuum comes by
        # (measured: 5.9 s instead of 0.3 s for 10,000 points); VACUUM also sets the new rows' visibility.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE area")
    log.info("stored grid set %s: %d areas, effective from %s", grid_set.version, len(ordered), effective_from)
    return True


def _copy_areas(session: Session, version: str, areas: Sequence[Any], progress: Progress) -> None:
    """Areas into PostgreSQL with COPY, in the session's transaction (row-by-row INSERTs of 100,000
    polygons took minutes; COPY takes seconds). Polygons go as hex EWKB, which PostGIS reads as text."""
    column = AreaGeometry()
    dialect = session.get_bind().dialect
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy("COPY area (grid_set, code, level, name, parent_code, geometry) FROM STDIN") as copy:
        for n, a in enumerate(areas):
            copy.write_row((version, a.code, a.level, a.name, a.parent_code,
                            column.process_bind_param(a.geometry, dialect)))
            if n % 5000 == 0:
                progress("store", n, len(areas))
    progress("store", len(areas), len(areas))


def seed_demo(db: Database) -> bool:
    """Store the demo grid set, in effect from now, unless an imported (non-demo) set or this demo is stored."""
    with db.session() as session:
        versions = [s.version for s in service.list_grid_sets(session)]
    if DEMO_VERSION in versions or any(not v.startswith(DEMO_PREFIX) for v in versions):
        return False
    # Generated afresh, not through the per-process cache: the service keeps no copy (~10 MB) once stored.
    return store_grid_set(db, generate("dongguan").grid_set, effective_from=datetime.now(UTC),
                          source="generator:dongguan")


@dataclass
class ImportResult:
    """What an import did: the version, whether it was stored, and the validation report."""

    version: str
    stored: bool
    dry_run: bool
    effective_from: datetime | None
    report: ValidationReport


CHINA_TZ = timezone(timedelta(hours=8))  # a date a city names starts at its local midnight (UTC+8, no DST)


def parse_moment(text: str) -> datetime:
    """``YYYY-MM-DD`` (local midnight, UTC+8) or an ISO 8601 time (UTC+8 if it names no offset)."""
    if len(text) == 10:
        return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(), CHINA_TZ)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def default_version(content: bytes | str) -> str:
    """A version named after the content, so importing the same file twice is noticed."""
    data = content.encode() if isinstance(content, str) else content
    return f"import-{hashlib.sha256(data).hexdigest()[:12]}"


def import_grid_set(db: Database, collection: Any, *, version: str, description: str | None = None,
                    effective_from: datetime | None = None, mapping: Mapping[str, str] = DEFAULT_MAPPING,
                    options: ValidationOptions | None = None, dry_run: bool = False, source: str | None = None,
                    progress: Progress = _noop) -> ImportResult:
    """Validate a FeatureCollection and, unless it is a dry run or anything is wrong, store it: all or nothing.

    The new set takes effect at ``effective_from`` (default: now); tickets keep the grid they were located in,
    since each located event names its grid set version. Conflict if the version is already stored.
    """
    effective_from = effective_from or datetime.now(UTC)
    with db.session() as session:
        if service.get_grid_set(session, version) is not None:
            raise Conflict(f"grid set {version} is already stored",
                           [ErrorDetail("version", "already stored; grid sets are immutable, import a new version")])
    candidates, problems = read_features(collection, mapping)
    report = validate(candidates, options, problems, progress)
    result = ImportResult(version, False, dry_run, effective_from, report)
    if dry_run or not report.ok:
        return result
    grid_set = GridSetRecord(version, description or f"import of {len(report.areas)} areas", report.areas)
    if not store_grid_set(db, grid_set, effective_from=effective_from, source=source, progress=progress):
        raise Conflict(f"grid set {version} is already stored", [ErrorDetail("version", "already stored")])
    result.stored = True
    return result


def report_failure(report: ValidationReport, limit: int = 1000) -> ValidationFailed:
    """A validation report as the one error shape: one detail per issue (``features.12``: code, rule, why)."""
    details = [ErrorDetail(f"features.{i.index}" if i.index is not None else "features",
                           f"{i.code + ' ' if i.code else ''}{i.rule}: {i.message}") for i in report.errors[:limit]]
    if len(report.errors) > limit:
        details.append(ErrorDetail("features", f"… and {len(report.errors) - limit} more"))
    return ValidationFailed(f"the grid set is invalid: {len(report.errors)} problems; nothing was imported", details)


def to_wgs84(lons: Any, lats: Any, crs: str) -> tuple[Any, Any]:
    """Coordinates in ``crs`` as WGS84 (arrays or floats); ValidationFailed naming ``crs`` if it is unknown."""
    try:
        return geo.to_wgs84(lons, lats, crs)
    except ValueError as exc:
        raise ValidationFailed("unknown coordinate system", [ErrorDetail("crs", str(exc))]) from exc


def locate_point(locator: Locator, lon: float, lat: float, crs: str = "wgs84") -> tuple[Location, float, float]:
    """Where a point in ``crs`` falls in the grid set in effect, and the WGS84 point that was looked up."""
    x, y = to_wgs84(lon, lat, crs)
    return locator.locate(x, y), x, y


MAX_BATCH = 10_000


def locate_batch(locator: Locator, points: Sequence[Sequence[float]] | np.ndarray, crs: str = "wgs84") -> np.ndarray:
    """The answer number of each point (in ``crs``), in order; at most ``MAX_BATCH`` points."""
    coords = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(coords) > MAX_BATCH:
        raise ValidationFailed("too many points", [ErrorDetail("points", f"at most {MAX_BATCH} points per call, "
                                                                         f"got {len(coords)}")])
    lons, lats = to_wgs84(coords[:, 0], coords[:, 1], crs)
    return locator.answer_many(lons, lats)


class CodedArea(Protocol):
    """An area that names itself by code."""

    code: str


class AreaCover(Protocol):
    """The department-area layer as locating reads it (``departments.layer.DepartmentLayer``): the areas covering a
    point. A protocol, so that grids does not import departments, which builds on grids."""

    def covering(self, lon: float | None, lat: float | None) -> Sequence[CodedArea]:
        """The areas covering a point."""
        ...


class AddressResolver(Protocol):
    """The gazetteer as locating reads it (``places.gazetteer.Gazetteer``): an address to a place."""

    def resolve(self, address: str | None) -> Any:
        """The place an address names (a ``places.gazetteer.Resolution``)."""
        ...


ADDRESS_MIN_CONFIDENCE = 0.6  # below it the place stays a hint for triage (place_match), the report unlocated


def locate_by_address(locator: Locator, gazetteer: AddressResolver, address: str) -> Location:
    """A report's place from its address (issue #17): the finest level named, with how it matched; unlocated
    (with the hint) when the gazetteer is not sure enough."""
    found = gazetteer.resolve(address)
    if found.status == "unlocated":
        return locator.answers.location(0)
    match = PlaceMatch(matched_text=found.matched_text or "", level=found.level or "town",
                       confidence=found.confidence)
    if found.confidence < ADDRESS_MIN_CONFIDENCE:
        return Location(status="unlocated", grid_set_version=locator.version, place_match=match)
    return Location(status=found.status, grid_code=found.grid_code, grid_name=found.grid_name,
                    village_code=found.village_code, village_name=found.village_name, town_code=found.town_code,
                    town_name=found.town_name, grid_set_version=locator.version, place_match=match)


def locate_report(db: Database, locator: Locator, session: Session, envelope: Envelope,
                  department_areas: AreaCover | None = None, gazetteer: AddressResolver | None = None) -> None:
    """Locate a received report and stage ``report.located`` in the consumer's transaction.

    The location also names the department responsibility areas covering the point, for dispatch's rules. A
    report without usable coordinates but with an address is placed by the gazetteer; coordinates always win.
    """
    report = ReportReceived.model_validate(envelope.payload)
    location = locator.locate(report.lon, report.lat)
    if location.status == "unlocated" and not usable(report.lon, report.lat) and report.address \
            and gazetteer is not None:
        location = locate_by_address(locator, gazetteer, report.address)
        if location.place_match is not None:
            log.info("report %s placed from its address: %s (%s, %.2f)", report.report_id, location.status,
                     location.place_match.level, location.place_match.confidence)
    elif department_areas is not None:  # the locator's Location is shared between lookups: copy, never modify it
        codes = [a.code for a in department_areas.covering(report.lon, report.lat)]
        location = location.model_copy(update={"department_areas": codes})
    # The report goes on as it came (already JSON, validated once above) instead of being dumped again from the
    # model: the same fields ``ReportLocated`` carries; a reader validates the payload into it anyway.
    located = Envelope(
        type=REPORT_LOCATED, producer=SERVICE, key=report.report_id,
        payload={"report": envelope.payload, "location": location.model_dump(mode="json")},
        correlation_id=envelope.correlation_id, causation_id=str(envelope.id),
    )
    db.add_outbox(session, REPORTS_LOCATED, located)
    # INFO on purpose: one line per report in every service, under the report's correlation id, is how an operator
    # follows a report across the loop (tests/e2e/test_loop.py); with orjson it costs ~0.02 ms (#18).
    log.info("report %s %s: grid %s, town %s", report.report_id, location.status, location.grid_code,
             location.town_code)


