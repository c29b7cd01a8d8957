"""Issue #11: grid-registry's consumer refuses a report.received that intake would have refused (the same limits
as over HTTP), parks it in the DLQ with the reason, publishes no located report, and goes on with the stream."""

import json
import time
import uuid

import pytest

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import REPORTS_RECEIVED, dlq
from gridgov_grid_registry.grids.demo import DEMO_POINT


def _wait(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _dead_letters(runtime) -> list[dict]:
    consumer = runtime.bus.consumer(f"test-dlq-{uuid.uuid4().hex[:6]}", [dlq(REPORTS_RECEIVED)])
    try:
        out: list[dict] = []
        expected = sum(runtime.bus.end_offsets(dlq(REPORTS_RECEIVED)).values())
        deadline = time.monotonic() + 5
        while len(out) < expected and time.monotonic() < deadline:
            out += [json.loads(r.value) for r in consumer.poll(timeout=0.2)]
        return out
    finally:
        consumer.close()


@pytest.mark.parametrize(("change", "field"), [
    ({"description": "x" * 3_000_000}, "description"),
    ({"report_id": "r" * 5000}, "report_id"),
    ({"lon": 1e308}, "lon"),
    ({"description": "pipe\u0000burst"}, "description"),
])
def test_report_received_over_limits_is_dead_lettered_and_not_located(feed, change, field):
    runtime, runner = feed.runtime, feed.runner
    good = feed.received(*DEMO_POINT)
    bad: Envelope = good.model_copy(update={"payload": {**good.payload, **change}})
    runtime.bus.publish([OutgoingMessage(REPORTS_RECEIVED, bad.key, bad.to_bytes())])
    _wait(lambda: runner.dead_lettered == 1)

    [parked] = _dead_letters(runtime)
    assert parked["error"].startswith("ValidationError") and field in parked["error"]
    assert parked["topic"] == REPORTS_RECEIVED and parked["key"] == bad.key
    runtime.relay.drain()
    assert feed.located_count() == 0

    feed.publish(feed.received(*DEMO_POINT))  # the stream goes on
    assert feed.located_count() == 1
