import os
import threading

from gridgov_common.bus.embedded import EmbeddedBus


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_close_releases_the_connections_of_every_thread_that_used_the_bus(tmp_path):
    before = open_fds()
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topics(["t"], 2)
    hold, queried = threading.Event(), threading.Semaphore(0)

    def use_and_stay() -> None:
        bus.end_offsets("t")
        queried.release()
        hold.wait(10)  # alive, like a pooled web-server thread, while the bus closes

    threads = [threading.Thread(target=use_and_stay) for _ in range(8)]
    for t in threads:
        t.start()
    for _ in threads:
        assert queried.acquire(timeout=10)
    assert open_fds() > before + 8  # each thread opened its own connection (and its files)
    bus.close()
    hold.set()
    for t in threads:
        t.join(10)
    assert open_fds() <= before  # the threads' connections too, not only the caller's


def test_a_thread_that_uses_the_bus_after_close_gets_a_new_connection(tmp_path):
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topics(["t"], 2)
    bus.close()
    assert bus.end_offsets("t") == {0: 0, 1: 0}
    bus.close()
