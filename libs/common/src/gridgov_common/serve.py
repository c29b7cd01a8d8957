"""Run one service process: its API, its outbox relay and its consumers (as its settings say)."""

from __future__ import annotations

import gc
import socket
import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from gridgov_common.settings import ServiceSettings

# The collector's first threshold once a service has started (Python's default is 700): see freeze_startup_heap.
GEN0_THRESHOLD = 10_000
# uvicorn.run's exit status when the app did not start.
STARTUP_FAILURE = 3


def freeze_startup_heap() -> None:
    """Keep what start-up built (the app, the catalogs, the grid index, the runtime) out of the collector's scans.

    Why (issue #18's p99): a full collection walks every tracked object and holds the GIL while it does; a started
    service holds tens of thousands that live as long as the process, and each full collection during the loop
    took 15–65 ms of CPU (more in wall time on a busy machine) in which none of the service's reports moved.
    Frozen objects are never scanned again; reference counting still frees them (only a cycle among them would
    stay). The first generation's threshold rises from 700 to GEN0_THRESHOLD: a request or a batch makes a few
    thousand short-lived containers that reference counting frees anyway, and collecting every 700 promoted the
    ones still in flight to the older generations, which the full collections then walked.
    """
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


class _Server(uvicorn.Server):
    """uvicorn's server, which freezes the start-up heap once the app's lifespan has started the runtime."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does (lifespan, then listen), then ``freeze_startup_heap``."""
        await super().startup(sockets=sockets)
        if not self.should_exit:
            freeze_startup_heap()


def serve(create_app: Callable[[ServiceSettings], FastAPI], settings: ServiceSettings) -> None:
    """Serve a service on its configured host and port until SIGINT/SIGTERM."""
    app = create_app(settings)
    # What uvicorn.run does for one process, with the server above in place of uvicorn's own.
    server = _Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                                    access_log=False, timeout_graceful_shutdown=10))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    if not server.started:
        sys.exit(STARTUP_FAILURE)
