"""The embedded log's consumer shares a polled batch among its partitions: a backlog on one topic (a grid set of
thousands of grids announced at once) does not hold another topic's messages back until it is drained."""

from __future__ import annotations

from gridgov_common.bus.embedded import EmbeddedBus
from gridgov_common.bus.interface import OutgoingMessage


def test_a_backlog_on_one_partition_leaves_room_for_the_others_in_every_batch(tmp_path):
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topics(["a.backlog", "b.reports"], 1)  # "a…" sorts first: it used to fill every batch
    bus.publish([OutgoingMessage("a.backlog", f"g{i}", f"grid {i}".encode()) for i in range(500)])
    bus.publish([OutgoingMessage("b.reports", f"r{i}", f"report {i}".encode()) for i in range(3)])
    consumer = bus.consumer("g", ["a.backlog", "b.reports"])
    try:
        first = consumer.poll(timeout=5, max_records=200)
        assert len(first) == 200  # the room the others leave goes to the backlog
        assert [r.value for r in first if r.topic == "b.reports"] == [b"report 0", b"report 1", b"report 2"]
        backlog = [r.offset for r in first if r.topic == "a.backlog"]
        assert backlog == list(range(197))  # in order, from the start
        rest = []
        while len(rest) < 303:
            got = consumer.poll(timeout=5, max_records=200)
            assert got, "the backlog's remaining records were not returned"
            rest += got
        assert [r.offset for r in rest] == list(range(197, 500))  # nothing skipped or repeated
    finally:
        consumer.close()
        bus.close()


def test_two_backlogs_share_the_batch_evenly_in_offset_order(tmp_path):
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topics(["x", "y"], 1)
    for topic in ("x", "y"):
        bus.publish([OutgoingMessage(topic, f"k{i}", b"v") for i in range(300)])
    consumer = bus.consumer("g", ["x", "y"])
    try:
        batch = consumer.poll(timeout=5, max_records=200)
        assert [r.offset for r in batch if r.topic == "x"] == list(range(100))
        assert [r.offset for r in batch if r.topic == "y"] == list(range(100))
    finally:
        consumer.close()
        bus.close()
