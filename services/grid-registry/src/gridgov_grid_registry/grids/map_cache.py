"""The map cache: rendered map layers of grid sets, kept in two small LRU caches (a version never changes)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from gridgov_common.db import Database
from gridgov_grid_registry.grids import maps, service
from gridgov_grid_registry.grids.areas import LEVELS
from gridgov_grid_registry.grids.models import Area


class MapCache:
    """Rendered map layers, cached: a grid set version never changes, so neither does its map at a zoom.

    Two LRU caches: each level of a version simplified at a zoom (shared by every bbox and parent asked for),
    and the rendered bodies. The ETag is a hash of the request's key alone, so a conditional request is
    answered 304 without rendering anything.
    """

    def __init__(self, db: Database, levels: int = 8, bodies: int = 64, max_body_bytes: int = 8 << 20):
        self.db = db
        self._levels: OrderedDict[tuple, tuple[list[Area], np.ndarray]] = OrderedDict()
        self._bodies: OrderedDict[tuple, bytes] = OrderedDict()
        self._sizes = (levels, bodies)
        self._max_body = max_body_bytes
        self._lock = threading.Lock()

    @staticmethod
    def etag(key: tuple) -> str:
        """The entity tag of a map request (strong: the body is a pure function of the key)."""
        return '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:32] + '"'

    def _level(self, version: str, level: str, zoom: int | None) -> tuple[list[Area], np.ndarray]:
        key = (version, level, zoom if zoom is not None and zoom < maps.FULL_DETAIL_ZOOM else None)
        with self._lock:
            if key in self._levels:
                self._levels.move_to_end(key)
                return self._levels[key]
        with self.db.session() as session:
            areas = service.list_areas(session, version, level)
        value = (areas, maps.simplify_level([a.geometry for a in areas], key[2]))
        with self._lock:
            self._levels[key] = value
            while len(self._levels) > self._sizes[0]:
                self._levels.popitem(last=False)
        return value

    def body(self, key: tuple) -> bytes:
        """The GeoJSON of ``(version, level, parent, zoom, bbox)``, rendered once."""
        with self._lock:
            if key in self._bodies:
                self._bodies.move_to_end(key)
                return self._bodies[key]
        version, level, parent, zoom, bbox = key
        chosen: list[Area] = []
        geoms: list[Any] = []
        for lvl in ([level] if level else list(LEVELS)) if version else []:
            areas, simplified = self._level(version, lvl, zoom)
            keep = maps.in_bbox(simplified, bbox)
            if parent is not None:
                keep &= np.array([a.parent_code == parent for a in areas], dtype=bool)
            chosen += [a for a, k in zip(areas, keep, strict=True) if k]
            geoms += simplified[keep].tolist()
        body = maps.render(chosen, geoms, version, zoom)
        if len(body) <= self._max_body:
            with self._lock:
                self._bodies[key] = body
                while len(self._bodies) > self._sizes[1]:
                    self._bodies.popitem(last=False)
        return body
