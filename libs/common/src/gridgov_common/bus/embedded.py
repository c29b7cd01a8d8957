"""The embedded bus: a durable, partitioned log in one SQLite file, shared by the processes of one machine.

It gives the services the Kafka semantics they rely on: named topics with a fixed partition count, a key
always on the same partition (so one key's messages stay in order), consumer groups whose members each own
a share of the partitions through leases, offsets committed explicitly, at-least-once delivery, and
durability across restarts (SQLite WAL: a committed append survives the process being killed), and retention:
a topic's messages older than its retention are deleted by ``prune`` (a compacted topic keeps them all).
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Collection
from pathlib import Path

from gridgov_common.bus.interface import OutgoingMessage, Record, partition_for

SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL, retention_s REAL);
CREATE TABLE IF NOT EXISTS heads (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    key TEXT, value BLOB NOT NULL, appended_at REAL NOT NULL,
    PRIMARY KEY (topic, partition, "offset")) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, committed INTEGER NOT NULL,
    committed_at REAL, PRIMARY KEY (grp, topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    grp TEXT NOT NULL, member TEXT NOT NULL, heartbeat REAL NOT NULL, PRIMARY KEY (grp, member));
CREATE TABLE IF NOT EXISTS leases (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, member TEXT NOT NULL,
    expires REAL NOT NULL, PRIMARY KEY (grp, topic, partition));
"""

# A member that has not polled for this long is considered gone and its partitions move on.
SESSION_TIMEOUT_S = 10.0
# How often a member renews its leases and looks for joiners or leavers.
REBALANCE_INTERVAL_S = 1.0
# How often a consumer looks for other processes' appends: every 2 ms while its records flow, every 25 ms once none
# came for a second. An idle embedded stack checked every 2 ms in each of its consumers and burnt over half a core
# doing nothing (0.53 and 0.78 of a core in two measurements, seven services; 0.21 since: bench/idle_stack.py);
# the first record after a quiet second is seen up to 25 ms later, while a steady flow (100 reports/s) keeps every
# consumer on its 2 ms step.
BUSY_CHECK_S = 0.002
IDLE_CHECK_S = 0.025
IDLE_AFTER_S = 1.0


# ``prune``'s transactions: at most this many messages each (~8 ms of the write lock for ~1 KB messages here:
# bench/bus_retention.py), and at most this many per call (a first pass over a long-kept log goes on at the next).
PRUNE_BATCH = 1_000
PRUNE_MOST = 200_000


class UnknownTopic(Exception):
    """Publishing to a topic that was never created (as with Kafka's auto-create switched off)."""


# The page size of a new log file (an existing one keeps its own). SQLite keeps a record of a WITHOUT ROWID table
# in its leaf page only up to about a quarter of a page: with 4 KiB pages a message of over ~1,000 bytes (a ticket
# event's envelope is ~1,050) spilled into an overflow page of its own, mostly empty; with 8 KiB pages messages up
# to ~2,000 bytes stay in the leaf (bench/bus_retention.py measures both).
PAGE_SIZE = 8192


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL: a WAL file's page size is fixed at its creation
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed transaction survives the process being killed (not a power cut).
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a log file written by an earlier version to this schema (columns added since; NULL in old rows:
    a topic kept for ever until ``ensure_topics`` sets its retention, a group not known to be alive)."""
    for table, column in (("topics", "retention_s"), ("group_offsets", "committed_at")):
        names = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in names:
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} REAL")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise


class _Notifier:
    """Wakes same-process consumers as soon as something is appended (others poll every few ms)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.generation = 0

    def notify(self) -> None:
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self.cond:
            if self.generation == seen:
                self.cond.wait(timeout)
            return self.generation


_notifiers: dict[str, _Notifier] = {}
_notifiers_lock = threading.Lock()


def _notifier(path: str) -> _Notifier:
    with _notifiers_lock:
        return _notifiers.setdefault(path, _Notifier())


class EmbeddedBus:
    """The embedded log; safe to share between threads and processes on one machine."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(Path(path).resolve())
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # Every thread's connection, so that close() releases them all: a thread-local connection of a pooled
        # thread (the web server's) outlives the bus otherwise, and a process that opens and closes buses (a test
        # run, the analytics generation switch) runs out of file descriptors below 1024 (select()'s limit).
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        self._generation = 0
        self._partitions: dict[str, int] = {}
        self._notifier = _notifier(self.path)
        conn = self._conn()
        conn.executescript(SCHEMA)
        _add_missing_columns(conn)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "generation", None) != self._generation:
            conn = _connect(self.path)
            with self._opened_lock:
                self._opened.append(conn)
                self._local.conn, self._local.generation = conn, self._generation
        return conn

    def ensure_topics(self, topics: list[str], partitions: int, compacted: Collection[str] = (),
                      retention_s: float | None = None) -> None:
        """Create the topics that do not exist yet (an existing topic keeps its partition count) and set how long
        each keeps its messages: ``retention_s`` seconds, for an existing topic too (``math.inf``: for ever; None:
        a new topic for ever, an existing one as it was).

        A topic in ``compacted`` keeps every message: the embedded log does not compact, and keeping all of them
        keeps at least the latest of each key, which is all compaction promises (those topics hold one message per
        catalog version or grid). Unlike Kafka, where a topic's configuration is an operator's step once it
        exists, the setting applies to existing topics here: the embedded stack has no operator's tool for it.
        """
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for topic in topics:
                if retention_s is None:
                    conn.execute("INSERT OR IGNORE INTO topics(name, partitions) VALUES (?, ?)", (topic, partitions))
                else:
                    kept = None if topic in compacted or math.isinf(retention_s) else retention_s
                    conn.execute("INSERT INTO topics(name, partitions, retention_s) VALUES (?, ?, ?) "
                                 "ON CONFLICT(name) DO UPDATE SET retention_s = excluded.retention_s",
                                 (topic, partitions, kept))
                (count,) = conn.execute("SELECT partitions FROM topics WHERE name=?", (topic,)).fetchone()
                conn.executemany(
                    "INSERT OR IGNORE INTO heads(topic, partition, next_offset) VALUES (?, ?, 0)",
                    [(topic, p) for p in range(count)],
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def partitions(self, topic: str) -> int:
        """The partition count of a topic."""
        if topic not in self._partitions:
            row = self._conn().execute("SELECT partitions FROM topics WHERE name=?", (topic,)).fetchone()
            if row is None:
                raise UnknownTopic(f"topic {topic!r} does not exist; create it with ensure_topics")
            self._partitions[topic] = row[0]
        return self._partitions[topic]

    def publish(self, messages: list[OutgoingMessage]) -> None:
        """Append all messages in one transaction, in the given order."""
        if not messages:
            return
        placed = [(m.topic, partition_for(m.key, self.partitions(m.topic)), m) for m in messages]
        counts = Counter((topic, partition) for topic, partition, _ in placed)
        conn = self._conn()
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            # One head update per partition, then every row in one executemany: the write lock is held, so the
            # offsets read here are ours. Two statements per message (the head, then the row) were half the outbox
            # relay's time in sensing's alarm replay (issue #16).
            nexts: dict[tuple[str, int], int] = {}
            for (topic, partition), count in counts.items():
                (nexts[(topic, partition)],) = conn.execute(
                    "UPDATE heads SET next_offset = next_offset + ? WHERE topic=? AND partition=? "
                    "RETURNING next_offset - ?",
                    (count, topic, partition, count),
                ).fetchone()
            rows = []
            for topic, partition, msg in placed:
                offset = nexts[(topic, partition)]
                nexts[(topic, partition)] = offset + 1
                rows.append((topic, partition, offset, msg.key, msg.value, now))
            conn.executemany(
                'INSERT INTO log(topic, partition, "offset", key, value, appended_at) VALUES (?,?,?,?,?,?)', rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._notifier.notify()

    def prune(self, now: float | None = None, batch: int = PRUNE_BATCH, most: int = PRUNE_MOST) -> int:
        """Delete the messages older than their topic's retention; how many were deleted (at most ``most``).

        Oldest first, partition by partition, in transactions of at most ``batch`` messages, so that a publisher
        never waits long for the file's write lock. A message a consumer group has not committed yet stays while
        that group is alive (it committed within the retention): a group that lags by more than the retention
        does not lose its backlog. A group that committed nothing for longer no longer holds messages back, as
        Kafka forgets a group's offsets after a week; it resumes from the oldest message kept. Deleted pages go
        to SQLite's free list and are reused by later appends: the file stops growing, it does not shrink.
        """
        now = time.time() if now is None else now
        conn = self._conn()
        deleted = 0
        for topic, partitions, retention_s in conn.execute(
                "SELECT name, partitions, retention_s FROM topics WHERE retention_s IS NOT NULL").fetchall():
            cutoff = now - retention_s
            for partition in range(partitions):
                first = conn.execute('SELECT appended_at FROM log WHERE topic=? AND partition=? ORDER BY "offset" '
                                     "LIMIT 1", (topic, partition)).fetchone()
                if first is None or first[0] >= cutoff:
                    continue  # nothing old enough: no write lock taken
                while deleted < most:
                    gone = self._prune_partition(conn, topic, partition, cutoff, min(batch, most - deleted))
                    deleted += gone
                    if gone < batch:
                        break
        return deleted

    @staticmethod
    def _prune_partition(conn: sqlite3.Connection, topic: str, partition: int, cutoff: float, batch: int) -> int:
        """One transaction of ``prune``: the partition's oldest messages appended before ``cutoff``, up to the
        first one a live group still needs."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            (pin,) = conn.execute(
                "SELECT min(committed) FROM group_offsets WHERE topic=? AND partition=? AND committed_at >= ?",
                (topic, partition, cutoff)).fetchone()
            # the log is in append order, and so (within a clock step) are its moments: stop at the first message
            # young enough to keep, as Kafka deletes a segment only once its newest message has expired
            upto = None
            for offset, appended_at in conn.execute(
                    'SELECT "offset", appended_at FROM log WHERE topic=? AND partition=? ORDER BY "offset" LIMIT ?',
                    (topic, partition, batch)):
                if appended_at >= cutoff or (pin is not None and offset >= pin):
                    break
                upto = offset
            gone = 0
            if upto is not None:
                gone = conn.execute('DELETE FROM log WHERE topic=? AND partition=? AND "offset" <= ?',
                                    (topic, partition, upto)).rowcount
            conn.execute("COMMIT")
            return gone
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def consumer(self, group: str, topics: list[str]) -> EmbeddedConsumer:
        """Join a consumer group on these topics."""
        return EmbeddedConsumer(self, group, topics)

    def healthy(self) -> bool:
        """Whether the log file can be read."""
        try:
            self._conn().execute("SELECT 1 FROM topics LIMIT 1").fetchall()
            return True
        except sqlite3.Error:
            return False

    def end_offsets(self, topic: str) -> dict[int, int]:
        """The next offset per partition (for lag and tests)."""
        rows = self._conn().execute("SELECT partition, next_offset FROM heads WHERE topic=?", (topic,))
        return dict(rows.fetchall())

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """A group's committed offsets per partition."""
        rows = self._conn().execute(
            "SELECT partition, committed FROM group_offsets WHERE grp=? AND topic=?", (group, topic)
        )
        return dict(rows.fetchall())

    def close(self) -> None:
        """Close every thread's connection (a thread that uses the bus afterwards opens a new one)."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
            self._generation += 1
        for conn in opened:
            conn.close()
        self._local.conn = None


class EmbeddedConsumer:
    """One member of a consumer group on the embedded log; use it from one thread."""

    def __init__(self, bus: EmbeddedBus, group: str, topics: list[str]):
        self.bus = bus
        self.group = group
        self.topics = list(topics)
        marks = ",".join("?" * len(self.topics))
        self._heads_sql = f"SELECT topic, partition, next_offset FROM heads WHERE topic IN ({marks})"  # noqa: S608
        self.member = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._conn = _connect(bus.path)
        self._positions: dict[tuple[str, int], int] = {}
        self._last_rebalance = 0.0
        self._last_records = time.monotonic()
        self._seen_generation = -1
        self._closed = False
        for topic in self.topics:
            bus.partitions(topic)  # fail early on an unknown topic

    def _write(self, fn):
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn()
            self._conn.execute("COMMIT")
            return result
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def _rebalance(self) -> None:
        """Heartbeat, then take the partitions the deterministic assignment gives this member."""
        now = time.time()
        conn = self._conn
        all_tps = sorted((t, p) for t in self.topics for p in range(self.bus.partitions(t)))

        def step():
            conn.execute(
                "INSERT INTO members(grp, member, heartbeat) VALUES (?,?,?) "
                "ON CONFLICT(grp, member) DO UPDATE SET heartbeat=excluded.heartbeat",
                (self.group, self.member, now),
            )
            conn.execute(
                "DELETE FROM members WHERE grp=? AND heartbeat < ?", (self.group, now - SESSION_TIMEOUT_S)
            )
            members = [r[0] for r in conn.execute("SELECT member FROM members WHERE grp=? ORDER BY member",
                                                   (self.group,))]
            mine = {tp for i, tp in enumerate(all_tps) if members[i % len(members)] == self.member}
            for topic, partition in all_tps:
                if (topic, partition) in mine:
                    conn.execute(
                        "INSERT INTO leases(grp, topic, partition, member, expires) VALUES (?,?,?,?,?) "
                        "ON CONFLICT(grp, topic, partition) DO UPDATE SET member=excluded.member, "
                        "expires=excluded.expires WHERE leases.member=excluded.member OR leases.expires < ?",
                        (self.group, topic, partition, self.member, now + SESSION_TIMEOUT_S, now),
                    )
                else:
                    conn.execute(
                        "DELETE FROM leases WHERE grp=? AND topic=? AND partition=? AND member=?",
                        (self.group, topic, partition, self.member),
                    )
            owned = conn.execute(
                "SELECT l.topic, l.partition, COALESCE(o.committed, 0) FROM leases l "
                "LEFT JOIN group_offsets o ON o.grp=l.grp AND o.topic=l.topic AND o.partition=l.partition "
                "WHERE l.grp=? AND l.member=?",
                (self.group, self.member),
            ).fetchall()
            return {(t, p): c for t, p, c in owned if t in self.topics}

        owned = self._write(step)
        # Keep the in-memory position of partitions still owned; start new ones from the committed offset.
        self._positions = {tp: self._positions.get(tp, committed) for tp, committed in owned.items()}
        self._last_rebalance = now

    def assignment(self) -> list[tuple[str, int]]:
        """The partitions this member owns now."""
        return sorted(self._positions)

    def poll(self, timeout: float = 1.0, max_records: int = 100) -> list[Record]:
        """Next records from owned partitions, waiting up to ``timeout`` seconds for some."""
        deadline = time.monotonic() + timeout
        last_version = None
        while True:
            if time.time() - self._last_rebalance >= REBALANCE_INTERVAL_S:
                self._rebalance()
                last_version = None
            generation = self.bus._notifier.generation
            # PRAGMA data_version changes only when another connection commits: reading the log again is
            # needed only then, so an idle consumer costs one cheap pragma every few milliseconds.
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if version != last_version:
                last_version = version
                records = self._fetch(max_records)
                if records:
                    self._last_records = time.monotonic()
                    return records
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                return []
            # Same-process publishers wake us at once; other processes are seen within a check step.
            step = BUSY_CHECK_S if now - self._last_records < IDLE_AFTER_S else IDLE_CHECK_S
            self.bus._notifier.wait(generation, min(step, remaining))

    def _fetch(self, max_records: int) -> list[Record]:
        # One look at the heads first: any commit on the file (another topic's publish, an offset commit) wakes
        # every consumer, and reading each owned partition's log every time cost more than the messages did.
        heads = {(t, p): n for t, p, n in self._conn.execute(self._heads_sql, self.topics)}
        ready = [tp for tp, position in sorted(self._positions.items()) if heads.get(tp, 0) > position]
        if not ready:
            return []
        # Each partition with records gets its share of the batch first, and the room left goes round again: one
        # partition's backlog (a grid set of thousands announced at once) must not hold another's messages (the
        # reports) until it is drained, as it did when the first partition in name order could fill the batch.
        out: list[Record] = []
        share = max(1, max_records // len(ready))
        for limit in (share, max_records):
            for topic, partition in ready:
                room = min(limit, max_records - len(out))
                position = self._positions[(topic, partition)]
                if room <= 0:
                    return out
                if heads[(topic, partition)] <= position:
                    continue
                rows = self._conn.execute(
                    'SELECT "offset", key, value FROM log WHERE topic=? AND partition=? AND "offset" >= ? '
                    'ORDER BY "offset" LIMIT ?',
                    (topic, partition, position, room),
                ).fetchall()
                for offset, key, value in rows:
                    out.append(Record(topic, partition, offset, key, bytes(value)))
                if rows:
                    self._positions[(topic, partition)] = rows[-1][0] + 1
            if len(ready) == 1:
                break  # its share was the whole batch
        return out

    def lag(self) -> int:
        """Messages in the owned partitions after the group's committed offset."""
        total = 0
        for topic, partition in self._positions:
            row = self._conn.execute(
                "SELECT h.next_offset - COALESCE(o.committed, 0) FROM heads h LEFT JOIN group_offsets o "
                "ON o.grp=? AND o.topic=h.topic AND o.partition=h.partition WHERE h.topic=? AND h.partition=?",
                (self.group, topic, partition),
            ).fetchone()
            total += row[0] if row else 0
        return total

    def behind(self) -> int:
        """Messages in the owned partitions after this member's fetch position (what a poll should return)."""
        total = 0
        for (topic, partition), position in self._positions.items():
            row = self._conn.execute("SELECT next_offset FROM heads WHERE topic=? AND partition=?",
                                     (topic, partition)).fetchone()
            total += max(0, row[0] - position) if row else 0
        return total

    def commit(self, records: list[Record]) -> None:
        """Commit the offsets after these records, for partitions this member still owns."""
        if not records:
            return
        upto: dict[tuple[str, int], int] = {}
        for r in records:
            upto[(r.topic, r.partition)] = max(upto.get((r.topic, r.partition), 0), r.offset + 1)
        now = time.time()  # when the group last committed: while recent, its backlog is kept (``prune``)

        def step():
            for (topic, partition), offset in upto.items():
                owner = self._conn.execute(
                    "SELECT member FROM leases WHERE grp=? AND topic=? AND partition=?",
                    (self.group, topic, partition),
                ).fetchone()
                if owner is None or owner[0] != self.member:
                    continue  # the partition moved on; its new owner re-reads from the last commit
                self._conn.execute(
                    "INSERT INTO group_offsets(grp, topic, partition, committed, committed_at) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(grp, topic, partition) DO UPDATE SET committed=excluded.committed, "
                    "committed_at=excluded.committed_at",
                    (self.group, topic, partition, offset, now),
                )

        self._write(step)

    def close(self) -> None:
        """Leave the group and release the leases, so the others take the partitions at once."""
        if self._closed:
            return
        self._closed = True
        try:
            self._write(lambda: (
                self._conn.execute("DELETE FROM leases WHERE grp=? AND member=?", (self.group, self.member)),
                self._conn.execute("DELETE FROM members WHERE grp=? AND member=?", (self.group, self.member)),
            ))
        finally:
            self._conn.close()
