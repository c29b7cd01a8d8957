"""analytics' runtime: the shared one, plus the cube's consumer, which follows the cube's generation.

A rebuild (``POST /v1/admin/rebuild`` or ``gridgov analytics rebuild``, perhaps in another process) moves the
generation on in the database; every consumer process notices within ``generation_poll_s`` and replaces its cube
consumer by one of the new group, which reads the topics from the earliest offset.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from gridgov_analytics.consumers import cube_spec
from gridgov_analytics.cube.handlers import current_generation
from gridgov_analytics.settings import AnalyticsSettings
from gridgov_common.bus.runner import ConsumerRunner
from gridgov_common.runtime import ServiceRuntime

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class AnalyticsRuntime(ServiceRuntime):
    """Starts the cube's consumer of the generation in effect and a watcher that follows a rebuild."""

    cube_runner: ConsumerRunner | None = None
    cube_generation: int = 0
    _watcher: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _switch: threading.Lock = field(default_factory=threading.Lock)

    def start(self, ensure_topics_timeout: float = 120.0) -> None:
        """Start the shared runtime, then the cube's consumer and its generation watcher."""
        super().start(ensure_topics_timeout)
        if self.settings.run_consumers:
            self.follow_generation()
            self._watcher = threading.Thread(target=self._watch, name="analytics-generation", daemon=True)
            self._watcher.start()

    def follow_generation(self) -> int:
        """Run the cube's consumer of the generation in effect (replacing one of an older generation)."""
        with self._switch:
            generation = current_generation(self.db)
            if generation != self.cube_generation and not self._stopping.is_set():
                old = self.cube_runner
                if old is not None:
                    old.stop()
                    old.join(timeout=30)
                    self.runners.remove(old)
                spec = cube_spec(self.db, generation)
                runner = ConsumerRunner(self.open_bus(), spec.group, spec.topics, spec.handler,
                                        name=f"{spec.group}-0")
                runner.start()
                self.runners.append(runner)
                self.cube_runner, self.cube_generation = runner, generation
                log.info("cube consumer %s started", spec.group)
            return generation

    def _watch(self) -> None:
        settings = self.settings
        assert isinstance(settings, AnalyticsSettings)
        while not self._stopping.wait(settings.generation_poll_s):
            try:
                self.follow_generation()
            except Exception as exc:  # noqa: BLE001 - the database may be restarting; try again next time
                log.warning("cube generation check failed: %s", exc)

    def stop(self) -> None:
        """Stop the watcher, then the shared runtime (which stops every consumer, the cube's too)."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        with self._switch:
            super().stop()
