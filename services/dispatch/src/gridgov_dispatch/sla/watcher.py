"""The SLA watcher: a background thread that runs the scan (warnings 预警, escalations 升级) every few seconds.

Any number of dispatch instances may run it: each step is a version-guarded transition, so a ticket two
instances reach at once gets its step once (the loser's update finds a newer version and lets go).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class SlaWatcher(threading.Thread):
    """Calls ``scan`` every ``interval`` seconds until stopped; a failing scan is logged and retried."""

    def __init__(self, scan: Callable[[], int], interval: float):
        super().__init__(name="sla-watcher", daemon=True)
        self._scan = scan
        self._interval = interval
        self._halt = threading.Event()
        self.passes = 0
        self.steps = 0

    def run(self) -> None:
        """Scan, wait, repeat."""
        while not self._halt.is_set():
            try:
                self.steps += self._scan()
            except Exception:  # noqa: BLE001 - the database may be restarting; the next pass tries again
                log.exception("SLA scan failed; retrying in %.1f s", self._interval)
            self.passes += 1
            self._halt.wait(self._interval)

    def stop(self) -> None:
        """Ask the thread to finish after its current pass."""
        self._halt.set()
