"""A background thread that runs one pass of a service's periodic work every few seconds (dispatch's SLA scan,
sensing's sweep of quiet alarm groups).

Any number of instances may run the same pass: each pass must be safe to run twice at once (version-guarded
transitions, idempotent updates), so no leader election is needed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic(threading.Thread):
    """Calls ``work`` every ``interval`` seconds until stopped; a failing pass is logged and retried next time."""

    def __init__(self, name: str, work: Callable[[], int], interval: float):
        super().__init__(name=name, daemon=True)
        self._work = work
        self._interval = interval
        self._halt = threading.Event()
        self.passes = 0
        self.steps = 0  # what the passes did, summed (tickets stepped, groups closed…)

    def run(self) -> None:
        """Work, wait, repeat."""
        while not self._halt.is_set():
            try:
                self.steps += self._work()
            except Exception:  # noqa: BLE001 - the database may be restarting; the next pass tries again
                log.exception("%s: pass failed; retrying in %.1f s", self.name, self._interval)
            self.passes += 1
            self._halt.wait(self._interval)

    def stop(self) -> None:
        """Ask the thread to finish after its current pass."""
        self._halt.set()
