import threading

from gridgov_common.periodic import Periodic


def test_periodic_sums_its_passes_and_survives_a_failing_one():
    calls = []
    done = threading.Event()

    def work() -> int:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database is restarting")
        if len(calls) >= 4:
            done.set()
        return 3

    periodic = Periodic("test-periodic", work, 0.01)
    periodic.start()
    assert done.wait(5), "the thread stopped after the failing pass"
    periodic.stop()
    periodic.join(5)
    assert not periodic.is_alive()
    assert periodic.passes == len(calls) >= 4
    assert periodic.steps == 3 * (len(calls) - 1)  # the failed pass added nothing
