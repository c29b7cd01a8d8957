"""The embedded log's retention (``EmbeddedBus.prune``): a topic's messages older than its retention go, oldest
first; a compacted topic and a topic kept for ever keep all; a live group's backlog stays; consumers go on from
the oldest message kept; a log file of an earlier version gets the new columns."""

from __future__ import annotations

import math
import sqlite3
import time

from gridgov_common.bus.embedded import EmbeddedBus
from gridgov_common.bus.interface import OutgoingMessage

HOUR = 3600.0


def _publish(bus: EmbeddedBus, topic: str, tag: str, n: int) -> None:
    bus.publish([OutgoingMessage(topic, f"k{i}", f"{tag}{i}".encode()) for i in range(n)])


def _kept(bus: EmbeddedBus, topic: str) -> list[bytes]:
    conn = sqlite3.connect(bus.path)
    try:
        return [bytes(v) for (v,) in conn.execute('SELECT value FROM log WHERE topic=? ORDER BY "offset"', (topic,))]
    finally:
        conn.close()


def _between(bus: EmbeddedBus, topics: list[str]) -> float:
    """Publish ``old`` messages, then return a moment after them and before the ``new`` ones published next."""
    for topic in topics:
        _publish(bus, topic, "old", 5)
    time.sleep(0.02)
    moment = time.time()
    time.sleep(0.02)
    for topic in topics:
        _publish(bus, topic, "new", 3)
    return moment


def test_messages_older_than_the_retention_go_the_others_stay(tmp_path):
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topics(["expiring"], 1, retention_s=HOUR)
    bus.ensure_topics(["compacted"], 1, compacted=["compacted"], retention_s=HOUR)
    bus.ensure_topics(["kept"], 1)  # no retention: for ever
    moment = _between(bus, ["expiring", "compacted", "kept"])

    assert bus.prune(now=moment + HOUR - 1) == 0  # not yet an hour old
    assert bus.prune(now=moment + HOUR) == 5
    assert _kept(bus, "expiring") == [b"new0", b"new1", b"new2"]
    assert len(_kept(bus, "compacted")) == 8
    assert len(_kept(bus, "kept")) == 8
    assert bus.end_offsets("expiring") == {0: 8}  # offsets go on from where they were
    _publish(bus, "expiring", "later", 1)
    assert bus.end_offsets("expiring") == {0: 9}
    bus.close()


def test_a_live_group_keeps_its_backlog_a_quiet_one_does_not(tmp_path):
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topics(["t"], 1, retention_s=HOUR)
    _publish(bus, "t", "old", 5)
    quiet = bus.consumer("quiet", ["t"])
    quiet.commit(quiet.poll(timeout=2.0, max_records=1))  # committed offset 1, long before the cut
    quiet.close()
    time.sleep(0.02)
    moment = time.time()
    time.sleep(0.02)
    live = bus.consumer("live", ["t"])
    live.commit(live.poll(timeout=2.0, max_records=2))  # committed offset 2, after the moment: alive at the cut

    assert bus.prune(now=moment + HOUR) == 2  # the live group's next message (offset 2) and after stay
    assert _kept(bus, "t") == [b"old2", b"old3", b"old4"]
    live.close()

    # The quiet group comes back: its next message (offset 1) is gone, it goes on from the oldest kept.
    again = bus.consumer("quiet", ["t"])
    assert [r.offset for r in again.poll(timeout=2.0)] == [2, 3, 4]
    again.close()
    # Once the live group too has committed nothing for longer than the retention, its backlog goes as well.
    assert bus.prune(now=time.time() + HOUR + 1) == 3
    assert _kept(bus, "t") == []
    bus.close()


def test_a_pass_deletes_in_small_transactions_and_at_most_what_it_is_allowed(tmp_path):
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topics(["t"], 2, retention_s=HOUR)
    _publish(bus, "t", "m", 40)
    later = time.time() + HOUR + 1
    assert bus.prune(now=later, batch=3, most=10) == 10
    assert len(_kept(bus, "t")) == 30
    assert bus.prune(now=later, batch=3) == 30
    assert bus.prune(now=later, batch=3) == 0
    bus.close()


def test_ensure_topics_sets_the_retention_of_an_existing_topic_too(tmp_path):
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topics(["t"], 1)  # created kept for ever
    _publish(bus, "t", "m", 4)
    later = time.time() + HOUR + 1
    assert bus.prune(now=later) == 0
    bus.ensure_topics(["t"], 1, retention_s=HOUR)
    assert bus.prune(now=later) == 4
    bus.ensure_topics(["t"], 1)  # a caller that names no retention leaves it as it is
    _publish(bus, "t", "m", 2)
    assert bus.prune(now=later) == 2
    bus.ensure_topics(["t"], 1, retention_s=math.inf)  # GRIDGOV_BUS_RETENTION_HOURS=0: for ever again
    _publish(bus, "t", "m", 2)
    assert bus.prune(now=later) == 0
    bus.close()


OLD_SCHEMA = """
CREATE TABLE topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL);
CREATE TABLE heads (topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)) WITHOUT ROWID;
CREATE TABLE log (topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    key TEXT, value BLOB NOT NULL, appended_at REAL NOT NULL, PRIMARY KEY (topic, partition, "offset")) WITHOUT ROWID;
CREATE TABLE group_offsets (grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
    committed INTEGER NOT NULL, PRIMARY KEY (grp, topic, partition)) WITHOUT ROWID;
INSERT INTO topics VALUES ('t', 1);
INSERT INTO heads VALUES ('t', 0, 2);
INSERT INTO log VALUES ('t', 0, 0, 'k', x'61', 1000.0), ('t', 0, 1, 'k', x'62', 1000.0);
INSERT INTO group_offsets VALUES ('g', 't', 0, 1);
"""


def test_a_log_written_by_an_earlier_version_gets_the_new_columns(tmp_path):
    path = tmp_path / "bus.db"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA)
    conn.close()
    bus = EmbeddedBus(path)
    second = EmbeddedBus(path)  # another process opening the same file finds the columns there
    assert bus.prune() == 0  # kept for ever until a service sets the retention
    bus.ensure_topics(["t"], 1, retention_s=HOUR)
    # The group's commit of the old version has no moment: it does not hold its backlog (offset 1) back.
    assert second.prune() == 2
    consumer = bus.consumer("g", ["t"])
    _publish(bus, "t", "n", 1)
    assert [(r.offset, r.value) for r in consumer.poll(timeout=2.0)] == [(2, b"n0")]
    consumer.close()
    bus.close()
    second.close()
