"""One in-process cache of a value per database (the current catalog, rule set, working calendar).

Each is published rarely and read on every ticket, so it is kept in memory and looked at again at most every
``refresh_s`` seconds: a version another instance published is seen within that time, one this instance
published at once (its publisher calls ``forget``). ``is_current`` lets a cheap query (the newest version
number) keep a value that is still current without rebuilding it.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from gridgov_common.db import Database

T = TypeVar("T")
REFRESH_SECONDS = 30.0


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T
    key: Hashable
    checked_at: float  # time.monotonic()


class PerDatabase(Generic[T]):
    """A value per ``Database``, rebuilt when older than ``refresh_s`` unless ``is_current`` says it still is."""

    def __init__(self, refresh_s: float = REFRESH_SECONDS):
        self.refresh_s = refresh_s
        self._entries: weakref.WeakKeyDictionary[Database, _Entry[T]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, db: Database, build: Callable[[], T], *, key: Hashable = None,
            is_current: Callable[[T], bool] | None = None) -> T:
        """The cached value of ``db`` (for ``key``), checked or rebuilt when it is too old."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(db)
        if entry is not None and entry.key == key:
            if now - entry.checked_at < self.refresh_s:
                return entry.value
            if is_current is not None and is_current(entry.value):
                self._put(db, _Entry(entry.value, key, now))  # unchanged: only the check is new
                return entry.value
        value = build()
        self._put(db, _Entry(value, key, now))
        return value

    def forget(self, db: Database) -> None:
        """Drop the value of ``db``: the next ``get`` builds it again."""
        with self._lock:
            self._entries.pop(db, None)

    def _put(self, db: Database, entry: _Entry[T]) -> None:
        with self._lock:
            self._entries[db] = entry
