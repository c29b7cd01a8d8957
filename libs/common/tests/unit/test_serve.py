"""The service server freezes the start-up heap once the app has started, and only then (issue #18's p99)."""

from __future__ import annotations

import asyncio
import gc
from contextlib import asynccontextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from gridgov_common.serve import GEN0_THRESHOLD, STARTUP_FAILURE, _Server


@pytest.fixture
def gc_state():
    """Put the collector back as it was: the test process must not keep a frozen heap or a raised threshold."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def _app(started: list[int], fail: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if fail:
            raise RuntimeError("the runtime did not start")
        started.append(gc.get_freeze_count())  # what was frozen while the lifespan was starting: nothing yet
        yield

    return FastAPI(lifespan=lifespan)


def _server(app: FastAPI) -> _Server:
    return _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False))


def test_the_heap_is_frozen_after_the_lifespan_started_and_the_threshold_raised(gc_state):
    started: list[int] = []
    server = _server(_app(started))

    async def run() -> tuple[int, tuple[int, int, int]]:
        serving = asyncio.create_task(server.serve())
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        state = gc.get_freeze_count(), gc.get_threshold()
        server.should_exit = True
        await serving
        return state

    frozen, threshold = asyncio.run(run())
    assert started == [0]
    assert frozen > 1000  # the app, FastAPI, uvicorn and this test process's modules
    assert threshold[0] == GEN0_THRESHOLD


def test_an_app_that_fails_to_start_freezes_nothing(gc_state):
    server = _server(_app([], fail=True))
    with pytest.raises(SystemExit) as exited:
        asyncio.run(server.serve())
    assert exited.value.code == STARTUP_FAILURE
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] != GEN0_THRESHOLD
