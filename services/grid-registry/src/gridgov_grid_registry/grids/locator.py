"""The locator of the grid set in effect: built from the database (the in-memory ``GridIndex`` or PostGIS), and
kept current by a background thread that swaps it when another grid set takes effect."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from gridgov_common.db import Database
from gridgov_grid_registry.grids import service
from gridgov_grid_registry.grids.index import GridIndex, Locator
from gridgov_grid_registry.grids.postgis_index import PostgisLocator

log = logging.getLogger(__name__)


def build_locator(db: Database, version: str | None, kind: str = "strtree") -> Locator:
    """A locator of one grid set: the in-memory STRtree, or PostGIS (``kind="postgis"``)."""
    if kind == "postgis":
        if db.is_sqlite:
            raise ValueError("the postgis locator needs a PostgreSQL database")
        return PostgisLocator(db.engine, version)
    with db.session() as session:
        areas = service.index_rows(session, version) if version else []
    return GridIndex(areas, version)  # villages give their names to answers; only towns and grids are indexed


def load_locator(db: Database, kind: str = "auto") -> Locator:
    """The locator of the grid set in effect now (``auto``: the in-memory STRtree, on both stacks)."""
    with db.session() as session:
        active = service.effective_grid_set(session, datetime.now(UTC))
    return build_locator(db, active.version if active else None, "postgis" if kind == "postgis" else "strtree")


class ActiveLocator:
    """Holds the locator of the grid set in effect and swaps it when another set takes effect.

    A background thread asks the database, every ``interval`` seconds and at the moment a scheduled set takes
    effect, which set is in effect; when it changed (an import by another process, or a date reached) it
    builds the new locator aside and swaps the reference, so lookups never wait for a rebuild.
    """

    def __init__(self, db: Database, kind: str = "auto", interval: float = 5.0,
                 extra: Sequence[Callable[[], None]] = ()):
        self.db = db
        self.kind = kind
        self.interval = interval
        # Other refreshes to run on the same beat, and once when the watcher starts (the department layer, the
        # announcement of the set in effect).
        self.extra = list(extra)
        self.locator: Locator = load_locator(db, kind)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> bool:
        """Rebuild the locator if another grid set is in effect now; True if it changed."""
        with self.db.session() as session:
            active = service.effective_grid_set(session, datetime.now(UTC))
        version = active.version if active else None
        if version == self.locator.version:
            return False
        kind = "postgis" if self.kind == "postgis" else "strtree"
        old, self.locator = self.locator, build_locator(self.db, version, kind)
        if hasattr(old, "close"):
            old.close()  # a PostGIS locator's own connections (a lookup still holding one returns it first)
        log.info("grid set %s is in effect now (%d grids)", version, len(self.locator.answers))
        return True

    def _wait(self) -> float:
        with self.db.session() as session:
            upcoming = service.next_switch(session, datetime.now(UTC))
        if upcoming is None:
            return self.interval
        return max(0.0, min(self.interval, (upcoming - datetime.now(UTC)).total_seconds() + 0.001))

    def _run(self) -> None:
        for fn in self.extra:  # once at start too, off the caller's path (announcing a set takes a second or two)
            self._safe(fn, None)
        while not self._stopping.wait(self._safe(self._wait, self.interval)):
            self._safe(self.refresh, False)
            for fn in self.extra:
                self._safe(fn, None)

    @staticmethod
    def _safe(fn: Callable[[], Any], default: Any) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - a database outage must not stop lookups on the current set
            log.warning("grid set refresh failed, keeping the current one: %s", exc)
            return default

    def start(self) -> None:
        """Start watching for another grid set taking effect."""
        self._thread = threading.Thread(target=self._run, name="grid-registry-locator-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (and close a PostGIS locator's connections)."""
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout=5)
        if hasattr(self.locator, "close"):
            self.locator.close()
