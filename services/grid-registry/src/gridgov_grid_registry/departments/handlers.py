"""Use cases of department areas: replace one department's layer from GeoJSON, seed the demo layer."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import select

from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_grid_registry.departments import service
from gridgov_grid_registry.departments.layer import DepartmentLayer
from gridgov_grid_registry.departments.models import DepartmentArea
from gridgov_grid_registry.grids.demo import demo_department_areas
from gridgov_grid_registry.grids.validation import parse_geometry

log = logging.getLogger(__name__)
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def load_layer(db: Database) -> DepartmentLayer:
    """Every department area, in memory."""
    with db.session() as session:
        return DepartmentLayer(service.list_department_areas(session), service.signature(session))


def replace(db: Database, department: str, collection: Any) -> int:
    """Replace a department's areas with a FeatureCollection (``code``, ``name``, polygon): all or nothing."""
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection" \
            or not isinstance(features, list):
        raise ValidationFailed("not a FeatureCollection", [ErrorDetail("body", "expected a GeoJSON FeatureCollection")])
    rows, details, seen = [], [], set()
    for i, feature in enumerate(features):
        props = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
        code, name = str(props.get("code") or ""), str(props.get("name") or "")
        geometry, problems = parse_geometry(feature.get("geometry") if isinstance(feature, dict) else None)
        if not CODE_RE.match(code):
            problems.append(("code_malformed", "a code is 1-40 letters, digits, '.', '_' or '-'"))
        elif code in seen:
            problems.append(("code_duplicate", "another feature has the same code"))
        if not name or len(name) > 100:
            problems.append(("name_missing", "a name of 1-100 characters is required"))
        seen.add(code)
        details += [ErrorDetail(f"features.{i}", f"{code} {rule}: {msg}") for rule, msg in problems]
        rows.append({"department": department, "code": code, "name": name, "geometry": geometry,
                     "updated_at": datetime.now(UTC)})
    if details:
        raise ValidationFailed(f"{len(details)} problems; nothing was replaced", details)
    with db.session() as session:
        session.execute(delete(DepartmentArea).where(DepartmentArea.department == department))
        if rows:
            session.execute(insert(DepartmentArea), rows)
        session.commit()
    log.info("department %s has %d areas now", department, len(rows))
    return len(rows)


def seed_demo(db: Database) -> bool:
    """Fill an empty layer with the demo department areas."""
    with db.session() as session:
        if session.exec(select(DepartmentArea.code).limit(1)).first() is not None:
            return False
        now = datetime.now(UTC)
        session.execute(insert(DepartmentArea), [
            {"department": a.department, "code": a.code, "name": a.name, "geometry": a.geometry, "updated_at": now}
            for a in demo_department_areas()])
        session.commit()
    return True
