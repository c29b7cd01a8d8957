"""The test stack itself: a start that times out leaves no service process behind."""

import pytest

from tests.support.stack import Stack


def test_stop_spawned_services_when_start_times_out(tmp_path):
    stack = Stack("embedded", tmp_path)
    with pytest.raises(TimeoutError, match="not ready"):
        # No service imports and binds its port in 10 ms: the wait times out.
        stack.start(timeout=0.01)
    assert stack.procs, "the start spawned the services"
    still_running = [name for name, proc in stack.procs.items() if proc.poll() is None]
    assert still_running == []
