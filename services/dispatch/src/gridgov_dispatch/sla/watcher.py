"""The SLA watcher: a background thread that runs the scan (warnings 预警, escalations 升级) every few seconds.

Any number of dispatch instances may run it: each step is a version-guarded transition, so a ticket two
instances reach at once gets its step once (the loser's update finds a newer version and lets go).
"""

from __future__ import annotations

from collections.abc import Callable

from gridgov_common.periodic import Periodic


class SlaWatcher(Periodic):
    """Calls ``scan`` every ``interval`` seconds until stopped; a failing scan is logged and retried."""

    def __init__(self, scan: Callable[[], int], interval: float):
        super().__init__("sla-watcher", scan, interval)
