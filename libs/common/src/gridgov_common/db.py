"""Engine, sessions, the transactional outbox and the handled-message record, for every service.

Each service has its own metadata (its tables are its own); ``messaging_tables`` adds the outbox and the
handled-message tables to it. A state change and the messages it emits are committed in one transaction
(``Database.add_outbox``); the ``OutboxRelay`` publishes committed rows to the bus and only then deletes them.
A consumer records each handled message id in the same transaction as its effect (``Database.first_time``).
Rows a transaction stages in memory are written just before it commits (``on_commit``, ``stage_insert``,
``stage_latest``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    any_,
    bindparam,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.interface import Bus, OutgoingMessage
from gridgov_common.logs import correlation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessagingTables:
    """The outbox and handled-message tables of one service."""

    outbox: Table
    handled: Table


HANDLED_AT_INDEX = "ix_handled_message_handled_at"


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Add the outbox and handled-message tables to a service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("message_id", String(36), nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    handled = Table(
        "handled_message",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("message_id", String(36), primary_key=True),
        Column("handled_at", DateTime(timezone=True), nullable=False),
        # the oldest records first, for ``Database.prune_handled`` (appended at the index's end: records come in
        # time order)
        Index(HANDLED_AT_INDEX, "handled_at"),
    )
    return MessagingTables(outbox, handled)


_SNAPSHOT = "gridgov_snapshot"  # a connection's execution option: its transaction only reads, from one snapshot


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL, or None: not SQLite, or a database in memory (one connection's alone)."""
    if not url.startswith("sqlite"):
        return None
    path = url.removeprefix("sqlite:///")
    return path if path and path != ":memory:" and "mode=memory" not in path else None


def make_engine(url: str, sqlite_cache_kib: int | None = None, sqlite_checkpoint_pages: int | None = None) -> Engine:
    """An engine tuned for the backend: WAL SQLite in the embedded stack (a page cache of ``sqlite_cache_kib`` per
    connection, SQLite's 2,000 KiB when None; the WAL copied into the database after ``sqlite_checkpoint_pages``
    pages, SQLite's 1,000 when None), pooled PostgreSQL otherwise."""
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection per process: threads queue for it in Python instead of racing for SQLite's write
        # lock, whose busy handler sleeps in steps of milliseconds (it cut intake throughput by half).
        # hide_parameters: an error's text never carries the row's values (names, phones) into logs or answers.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=60,
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            if sqlite_cache_kib:
                cur.execute(f"PRAGMA cache_size=-{int(sqlite_cache_kib)}")  # negative: KiB, not pages
            if sqlite_checkpoint_pages:
                cur.execute(f"PRAGMA wal_autocheckpoint={int(sqlite_checkpoint_pages)}")
            cur.close()
            # Let SQLAlchemy issue BEGIN itself (pysqlite's own transaction handling is off).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            # Take the write lock up front: two writers never deadlock upgrading a read lock. A snapshot read
            # (Database.snapshot) takes none: in WAL its first read fixes what the whole transaction sees.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_SNAPSHOT) else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


# Staged writes (#18). A consumer batch stages its rows in memory and writes them in one statement per table just
# before its transaction commits, instead of one statement (or one ORM object) per message. The services did this
# with a ``before_commit`` listener each, written five times; this is the one mechanism. Nothing in the same
# transaction may read the staged rows back before they are written: a step that must see them calls
# ``write_staged(session)`` first.
_WRITERS = "gridgov_staged_writers"  # session.info: {writer: None}, an ordered set, per transaction
_HOOKED = "gridgov_staged_hooked"  # session.info: the session's listeners are in place (once per session)
_ROWS = "gridgov_staged_rows"  # session.info: {table: (conflict columns, [rows])}, per transaction
_LATEST = "gridgov_staged_latest"  # session.info: {table: ((key, order, keep), {key value: row})}, per transaction


def on_commit(session: Session, write: Callable[[Session], None]) -> None:
    """Have ``write(session)`` write what its owner staged just before ``session``'s transaction commits.

    Asked again with the same writer (e.g. once per staged row), it is still called once per commit; writers
    run in the order first asked, so rows a later writer's rows refer to can be staged by an earlier one.
    A rollback forgets the writers (their owner is the failed transaction's, and is dropped with it)."""
    if not session.in_transaction():
        # Staging is part of the transaction: begun here, a rollback before any statement still ends it and
        # forgets what it staged (SQLAlchemy begins a transaction lazily, at the first statement).
        session.begin()
    if not session.info.get(_HOOKED):
        event.listen(session, "before_commit", write_staged)
        event.listen(session, "after_soft_rollback", _forget_staged)
        session.info[_HOOKED] = True
    session.info.setdefault(_WRITERS, {})[write] = None


def write_staged(session: Session) -> None:
    """Write everything staged in this transaction now (called before commit; callable earlier, before a read of
    the staged rows). Each writer is asked again at commit only if something is staged with it after this."""
    while writers := session.info.pop(_WRITERS, None):  # a writer may stage more with another: write that too
        for write in writers:
            write(session)


def stage_insert(session: Session, table: Table, rows: Iterable[dict], conflict: Sequence[str] = ()) -> None:
    """Stage ``rows`` of ``table``, inserted at commit with the transaction's others in one executemany per table,
    in staging order; with ``conflict`` (a unique key's columns) a row that hits the key is skipped."""
    _staged(session, _ROWS, table, "conflict keys", tuple(conflict), list).extend(rows)
    on_commit(session, _insert_staged)


def _staged(session: Session, slot: str, table: Table, what: str, rule: tuple, empty: Callable[[], Any]) -> Any:
    """The rows of ``table`` staged in ``slot`` of this transaction under ``rule`` (a table has one rule)."""
    staged = session.info.setdefault(slot, {})
    entry = staged.get(table)
    if entry is None:
        entry = staged[table] = (rule, empty())
    elif entry[0] != rule:
        raise ValueError(f"rows of {table.name} staged with two {what}: {entry[0]} and {rule}")
    return entry[1]


# The hot writes' statements (the staged writes' INSERT … ON CONFLICT, the outbox's driver INSERT), made once per
# (dialect, table, rule): a consumer batch of a message or two spent more CPU building them than running them
# (issue #18). Bounded by the tables.
_MADE: dict[tuple[str, Table, tuple], Any] = {}


def _made(dialect: str, table: Table, rule: tuple, make: Callable[[], Any]) -> Any:
    """``make()``, remembered for this dialect, table and rule."""
    made = _MADE.get((dialect, table, rule))
    if made is None:
        made = _MADE[(dialect, table, rule)] = make()
    return made


def insert_statement(session: Session, table: Table, rule: tuple, build: Callable[[Any], Any]) -> Any:
    """``build(INSERT of table)`` in the session's dialect (both have ON CONFLICT), built once per ``rule`` (a
    tuple naming what ``build`` makes) and reused by every later batch."""
    dialect = session.get_bind().dialect.name
    return _made(dialect, table, rule, lambda: build((pg_insert if dialect == "postgresql" else sqlite_insert)(table)))


def _insert_staged(session: Session) -> None:
    staged = session.info.pop(_ROWS, None)
    if not staged:
        return
    for table, (conflict, rows) in staged.items():
        if not rows:
            continue
        statement = insert_statement(session, table, ("do_nothing", conflict), lambda insert, keys=conflict: (
            insert.on_conflict_do_nothing(index_elements=list(keys)) if keys else insert))
        session.execute(statement, rows)


def stage_latest(session: Session, table: Table, row: dict, *, key: str, order: str,
                 keep: Sequence[str] = ()) -> None:
    """Stage ``row`` of ``table`` to be upserted at commit, the latest by its ``order`` column winning.

    For state announced by another service (a grid's boundary), where a replay or an older announcement arriving
    late must change nothing: within the transaction a row replaces the one staged with the same ``key`` unless
    its ``order`` is lower; at commit it replaces the stored row unless the stored ``order`` is higher. Columns in
    ``keep`` keep their stored value where the new row has None. One statement per table for the transaction.
    """
    rows = _staged(session, _LATEST, table, "upsert rules", (key, order, tuple(keep)), dict)
    before = rows.get(row[key])
    if before is None or before[order] <= row[order]:
        rows[row[key]] = row
    on_commit(session, _upsert_latest)


def _upsert_latest(session: Session) -> None:
    staged = session.info.pop(_LATEST, None)
    if not staged:
        return
    for table, ((key, order, keep), rows) in staged.items():
        if not rows:
            continue

        def build(insert: Any, table: Table = table, key: str = key, order: str = order, keep: tuple = keep) -> Any:
            new = insert.excluded
            columns = [c.name for c in table.columns if c.name != key]
            return insert.on_conflict_do_update(
                index_elements=[key],
                set_={c: func.coalesce(new[c], table.c[c]) if c in keep else new[c] for c in columns},
                where=table.c[order] <= new[order])

        session.execute(insert_statement(session, table, ("latest", key, order, keep), build), list(rows.values()))


def _forget_staged(session: Session, previous_transaction) -> None:  # noqa: ANN001
    # Any rollback of the transaction, even one that never reached the database; not a savepoint's.
    if previous_transaction.nested:
        return
    session.info.pop(_WRITERS, None)
    session.info.pop(_ROWS, None)
    session.info.pop(_LATEST, None)


def positional_insert(dialect: Dialect, table: Table, columns: Sequence[str],
                      tail: str = "ON CONFLICT DO NOTHING") -> tuple[str, list[tuple[int, Callable[[Any], Any]]]]:
    """A driver-level ``INSERT`` of ``columns`` with positional parameters, followed by ``tail``, and the bind
    processors of the columns whose type has one, by position: for bulk loads through ``bind_rows``."""
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(table.c[c].name) for c in columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))}) {tail}")
    processors = [(i, _sqlite_datetime_text(dialect, table.c[c].type, p)) for i, c in enumerate(columns)
                  if (p := table.c[c].type.dialect_impl(dialect).bind_processor(dialect))]
    return sql, processors


# SQLite's DATETIME text as SQLAlchemy writes it by default (``DATETIME._storage_format``): the wall-clock fields,
# always with six digits of microseconds, no offset.
_SQLITE_DATETIME_FORMAT = ("%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"
                           ".%(microsecond)06d")


def _sqlite_datetime_text(dialect: Dialect, column_type: Any, process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process`` for a bulk load, or for a datetime column on SQLite one that writes the same text sooner.

    Why (issue #15): SQLAlchemy's SQLite DATETIME processor fills its format from a dict of seven fields, ~3 µs per
    value (with sqlmodel's ``UTCDateTime`` conversion before it); the history writes millions. ``isoformat`` gives
    the same characters in C (``YYYY-MM-DD HH:MM:SS.ffffff`` with ``timespec="microseconds"``; an offset, if any,
    comes after the 26th). Only plain ``datetime`` values take the short way, and for ``UTCDateTime`` only those
    already in UTC (as the loaders' are); anything else — a date, a naive value that type refuses, another zone —
    goes through ``process`` itself, with its conversion and its errors.
    """
    impl = column_type.dialect_impl(dialect)
    storage = getattr(impl, "_storage_format", None)
    if dialect.name != "sqlite" or storage != _SQLITE_DATETIME_FORMAT:
        return process
    if isinstance(column_type, UTCDateTime):

        def utc_text(value: Any) -> Any:
            if type(value) is datetime and value.tzinfo is UTC:
                return value.isoformat(" ", "microseconds")[:26]
            return process(value)

        return utc_text
    if isinstance(column_type, TypeDecorator):  # some other conversion first: not ours to skip
        return process

    def wall_text(value: Any) -> Any:
        if type(value) is datetime:
            return value.isoformat(" ", "microseconds")[:26]
        return process(value)

    return wall_text


_UNKNOWN = object()  # not yet converted (a processor may give None)


def bind_rows(rows: Sequence[Sequence[Any]], processors: Sequence[tuple[int, Callable[[Any], Any]]], *,
              memo: bool | Container[int] = False) -> list[tuple]:
    """The rows as the driver takes them, each value through its column's bind processor (None stays None).

    The very conversions SQLAlchemy applies (UTC datetimes as SQLite text, JSON, booleans …), but column by
    column instead of through its per-row parameter handling, which was a fifth to a half of the history loaders'
    CPU. With ``memo`` (True: every column; or the positions of some) each distinct value of those columns is
    converted once (hashable values only): a chunk's count rows share a few days. Memoising a column of distinct
    large values (message bytes) costs a hash of each: leave those out. A datetime is remembered with its zone: two
    equal instants in different zones are equal keys but may be stored as different text (a wall-clock column).
    """
    if not rows:
        return []
    if not processors:
        return [tuple(row) for row in rows]
    columns = [list(column) for column in zip(*rows, strict=True)]
    for i, process in processors:
        if memo is True or (memo and i in memo):
            done: dict[Any, Any] = {}
            converted = []
            for v in columns[i]:
                if v is None:
                    converted.append(None)
                    continue
                key = (v, v.tzinfo) if type(v) is datetime else v
                hit = done.get(key, _UNKNOWN)
                if hit is _UNKNOWN:
                    hit = done[key] = process(v)
                converted.append(hit)
            columns[i] = converted
        else:
            columns[i] = [None if v is None else process(v) for v in columns[i]]
    return list(zip(*columns, strict=True))


OUTBOX_COLUMNS = ("topic", "key", "message_id", "value", "created_at")


def write_outbox(session: Session, rows: Sequence[tuple]) -> None:
    """Insert outbox rows ``(topic, key, message_id, value, created_at)`` now, in their order and the session's
    transaction, in one driver call (SQLite: an executemany; PostgreSQL: one INSERT of arrays), and mark the
    session so ``Database.session`` wakes the relay after the commit: for a hot path that builds its messages'
    bytes itself (sensing's alarms). Rows staged with ``Database.add_outbox`` are written at commit, after these:
    only one key's messages keep their order."""
    if not rows:
        return
    conn = session.connection()
    table = session.info["outbox_table"]
    if conn.dialect.name == "postgresql":
        # One statement whatever the row count, one array per column: psycopg's executemany ran an INSERT per row
        # (pipelined), 40 % of sensing's alarm ingest on PostgreSQL (issue #16). WITH ORDINALITY … ORDER BY: the
        # ids are drawn in the rows' order, which is what keeps one key's messages in order.
        sql = _made("postgresql", table, ("unnest", OUTBOX_COLUMNS), lambda: _outbox_unnest_insert(conn.dialect, table))
        conn.exec_driver_sql(sql, tuple(list(column) for column in zip(*rows, strict=True)))
    else:
        sql, processors = _made(conn.dialect.name, table, ("positional", OUTBOX_COLUMNS),
                                lambda: positional_insert(conn.dialect, table, OUTBOX_COLUMNS, tail=""))
        # A batch's rows share one created_at, converted once; the message bytes are all distinct (not memoised).
        conn.exec_driver_sql(sql, bind_rows(rows, processors, memo={OUTBOX_COLUMNS.index("created_at")}))
    session.info["outbox_dirty"] = True


def _outbox_unnest_insert(dialect: Dialect, table: Table) -> str:
    """The outbox's multi-row INSERT on PostgreSQL: its columns from one array each, in the arrays' order."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in OUTBOX_COLUMNS)
    return (f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM unnest("
            f"{array_parameters(table, OUTBOX_COLUMNS, dialect)}) WITH ORDINALITY AS u({names}, n) ORDER BY n")


def array_parameters(table: Table, columns: Sequence[str], dialect: Dialect) -> str:
    """``%b::<type>[], …``: one PostgreSQL array parameter per column, each in the binary format.

    ``%b``: psycopg builds a text-format array in Python, element by element, quoting and escaping each (23.5 µs per
    row of six columns against 2.8 µs in binary, measured offline on its dumpers); the server casts the elements to
    the column types (text → JSON by its input function). A binary array holds one element type: give a float
    column floats only."""
    return ", ".join(f"%b::{table.c[c].type.compile(dialect=dialect)}[]" for c in columns)


def unnest_sql(table: Table, columns: Sequence[str], dialect: Dialect) -> str:
    """``SELECT * FROM unnest(%b::<type>[], …)``: PostgreSQL's rows from one array parameter per column (see
    ``array_parameters``), for a multi-row write whose text is the same whatever the row count."""
    return f"SELECT * FROM unnest({array_parameters(table, columns, dialect)})"


class OutboxSession(Session):
    """A session that writes the messages staged with ``Database.add_outbox`` in one statement at commit.

    One multi-row INSERT per transaction instead of one per message: on PostgreSQL every statement is a round
    trip, and a consumer batch stages two or three messages per report.
    """

    def commit(self) -> None:
        """Insert the staged outbox rows (in staging order, so ids keep per-key order), then commit."""
        rows = self.info.pop("outbox_rows", None)
        if rows:
            write_outbox(self, [(r["topic"], r["key"], r["message_id"], r["value"], r["created_at"]) for r in rows])
        super().commit()

    def rollback(self) -> None:
        """Forget the staged outbox rows with the rest of the transaction."""
        self.info.pop("outbox_rows", None)
        super().rollback()


class Database:
    """One service's database: engine, sessions, outbox and idempotency records."""

    def __init__(self, url: str, metadata: MetaData, service_name: str,
                 session_class: type[OutboxSession] = OutboxSession, sqlite_cache_kib: int | None = None,
                 sqlite_checkpoint_pages: int | None = None):
        self.url = url
        self.metadata = metadata
        self.service_name = service_name
        # A service whose transactions stage rows of their own to write at commit passes its subclass here,
        # at construction, rather than hooking the shared class (see event-intake's ReportSession).
        self.session_class = session_class
        # A service whose batches touch more pages than SQLite's default cache holds passes a larger one; one that
        # writes the same pages again and again at a high rate, a larger WAL between checkpoints.
        self.engine = make_engine(url, sqlite_cache_kib, sqlite_checkpoint_pages)
        self._sqlite_cache_kib = sqlite_cache_kib  # the long reads' connection gets the same page cache
        self.tables = messaging_tables(metadata) if "outbox" not in metadata.tables else MessagingTables(
            metadata.tables["outbox"], metadata.tables["handled_message"]
        )
        self.outbox_written = threading.Event()
        self._reader: Engine | None = None
        self._reader_lock = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded (SQLite) backend."""
        return self.engine.dialect.name == "sqlite"

    def create_all(self) -> None:
        """Create the service's tables that do not exist yet."""
        self.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session; commit it yourself. Wakes the outbox relay after a commit."""
        with self.session_class(self.engine, expire_on_commit=False,
                                info={"outbox_table": self.tables.outbox}) as session:
            yield session
            if session.info.get("outbox_dirty"):
                self.outbox_written.set()

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session whose queries all see one committed state: for an answer made of several queries.

        Under PostgreSQL's default READ COMMITTED each statement sees what was committed before it, so a ticket
        and its trail, or two counts, read one after the other could straddle a consumer's commit (seen in CI: a
        status whose totals were complete while its fact count, read a statement earlier, was not)."""
        options = ({_SNAPSHOT: True} if self.is_sqlite
                   else {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
        with self.session() as session:
            session.connection(execution_options=options)
            yield session

    @contextmanager
    def long_read(self) -> Iterator[Session]:
        """A snapshot (see ``snapshot``) for a read of seconds — a month's indicators, the risk map's statistics —
        on SQLite on a read-only connection of its own, so that it does not hold the one connection the process's
        consumers and other requests share (a month's indicators held dispatch's for 2-3 s, the loop waiting
        behind it). In WAL the two connections do not wait for each other. PostgreSQL's pool has connections
        enough; an in-memory SQLite database is one connection's alone, so both read as ``snapshot`` does."""
        reader = self._reader_engine()
        if reader is None:
            with self.snapshot() as session:
                yield session
            return
        with Session(reader, expire_on_commit=False) as session:
            session.connection(execution_options={_SNAPSHOT: True})
            yield session

    def _reader_engine(self) -> Engine | None:
        """The read-only engine of ``long_read`` (made on first use), or None where the main one serves."""
        if sqlite_file(self.url) is None:
            return None
        with self._reader_lock:
            if self._reader is None:
                reader = make_engine(self.url, self._sqlite_cache_kib)

                @event.listens_for(reader, "connect")
                def _read_only(dbapi_conn, _record):  # noqa: ANN001
                    dbapi_conn.execute("PRAGMA query_only=ON")  # a write through it is an error, not a lock

                self._reader = reader
            return self._reader

    def dispose(self) -> None:
        """Close the database's connections (at shutdown)."""
        self.engine.dispose()
        if self._reader is not None:
            self._reader.dispose()

    def add_outbox(self, session: Session, topic: str, envelope: Envelope) -> None:
        """Stage a message in the outbox, to be committed with the state change that emits it."""
        session.info.setdefault("outbox_rows", []).append({
            "topic": topic,
            "key": envelope.key,
            "message_id": str(envelope.id),
            "value": envelope.to_bytes(),
            "created_at": datetime.now(UTC),
        })

    def first_time(self, session: Session, consumer: str, message_id: str) -> bool:
        """Record a message as handled by ``consumer`` in this transaction; False if it was handled before."""
        handled = self.tables.handled
        seen = session.execute(
            select(handled.c.message_id).where(handled.c.consumer == consumer, handled.c.message_id == message_id)
        ).first()
        if seen:
            return False
        session.execute(insert(handled).values(consumer=consumer, message_id=message_id,
                                               handled_at=datetime.now(UTC)))
        return True

    def prune_handled(self, before: datetime, batch: int = 5_000, most: int = 500_000) -> int:
        """Forget the handled-message records made before ``before``; how many (at most ``most``).

        A record must outlive every copy of its message that can still arrive: one still in the bus's log (a group
        reset to the oldest message re-reads it) or a relay's resend after a crash between publishing and marking
        its outbox row. The caller picks ``before`` accordingly (``ServiceRuntime``: the bus's retention and a
        day). Transactions of at most ``batch`` records, so the consumers sharing this database wait little.
        """
        handled = self.tables.handled
        deleted = 0
        while deleted < most:
            size = min(batch, most - deleted)
            oldest = (select(handled.c.consumer, handled.c.message_id)
                      .where(handled.c.handled_at < before).limit(size))
            with self.session() as session:
                gone = session.execute(delete(handled).where(
                    tuple_(handled.c.consumer, handled.c.message_id).in_(oldest))).rowcount
                session.commit()
            deleted += gone
            if gone < size:
                break
        return deleted

    def idempotent_batch(self, consumer: str,
                         apply: Callable[[Session, Envelope], None]) -> Callable[[list[Envelope]], None]:
        """A batch handler: ``apply`` each message not handled before, all in one transaction.

        Recording the message ids and the effects in one commit is what makes the consumer idempotent; one
        commit per batch instead of per message is what makes it fast. If the batch fails, the runner falls
        back to one message at a time, so a poison message is isolated and dead-lettered alone.
        """

        # The bookkeeping as driver SQL, its text made once (per batch size for the query): at the loop's usual
        # rates a batch holds a message or two, and building these statements and running them through
        # SQLAlchemy's execution cost more CPU than the rest of the transaction (issue #18,
        # bench/consumer_overhead.py). What is stored is what SQLAlchemy stores (the columns' bind processors).
        handled = self.tables.handled
        dialect = self.engine.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        name = dialect.identifier_preparer.quote(handled.name)
        seen_query = handled_lookup(dialect.name, name, mark)
        record = handled_record(dialect, handled)

        def handle(envelopes: list[Envelope]) -> None:
            ids = [str(e.id) for e in envelopes]
            now = datetime.now(UTC)
            with self.session() as session:
                conn = session.connection()
                # One query and one insert for the whole batch, instead of two statements per message.
                seen = {row[0] for row in conn.exec_driver_sql(*seen_query(consumer, ids))}
                fresh = []
                for envelope, message_id in zip(envelopes, ids, strict=True):
                    if message_id in seen:
                        continue
                    seen.add(message_id)
                    fresh.append(message_id)
                    with correlation(envelope.correlation_id):
                        apply(session, envelope)
                if fresh:
                    conn.exec_driver_sql(*record(consumer, fresh, now))
                session.commit()

        return handle

    def outbox_backlog(self) -> int:
        """Messages committed but not yet published."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.tables.outbox)).scalar_one()

    def ping(self) -> bool:
        """Whether the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False


def contains(columns: Sequence[Any], text_: str) -> Any:
    """A condition: any of ``columns`` holds ``text_`` as a literal piece, case-insensitively (``ILIKE`` on
    PostgreSQL, ``lower() LIKE lower()`` on SQLite): the ``%`` and ``_`` a user types are characters, not
    wildcards."""
    pattern = "%" + text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def one_of(column: Any, values: Sequence[Any], dialect: str) -> Any:
    """``column IN values`` as a condition; on PostgreSQL ``column = ANY(<one array>)``.

    Why (issue #16): psycopg prepares a statement run five times, and PostgreSQL may then keep a generic plan, made
    without the values. For a key list next to other indexed conditions (notification's claim: ``id IN (…) AND
    status IN (…) AND next_attempt_at <= …``) that plan walked the other index — every due row — and compared each
    with the list: 322 ms per 100-id claim with 100,000 due deliveries on a table without statistics. One array
    the planner takes for a handful of rows found by the key (3.0 ms there); it may still combine the other index
    with it, so a caller whose other conditions no index should serve writes them that way too (the claim: 0.2 ms)."""
    if dialect != "postgresql":
        return column.in_(values)
    return column == any_(cast(bindparam(None, list(values), unique=True), ARRAY(column.type)))


def handled_record(dialect: Dialect, table: Table) -> Callable[[str, list[str], datetime], tuple[str, Any]]:
    """The insert of a batch's handled-message records, for the dialect: ``(consumer, ids, now) -> (sql,
    parameters)``, stored as SQLAlchemy stores them.

    On PostgreSQL one statement with the ids in one array: psycopg's executemany ran an INSERT per message
    (pipelined), a tenth of sensing's grouping consumer (issue #16). On SQLite an executemany (one prepared
    statement stepped per row, in C), the batch's one moment converted once."""
    name = dialect.identifier_preparer.quote(table.name)
    if dialect.name == "postgresql":
        sql = (f"INSERT INTO {name} (consumer, message_id, handled_at) "
               f"SELECT %s, m.id, %s FROM unnest(%b::varchar[]) AS m(id)")
        return lambda consumer, ids, now: (sql, (consumer, now, ids))
    sql, processors = positional_insert(dialect, table, ("consumer", "message_id", "handled_at"), "")
    return lambda consumer, ids, now: (sql, bind_rows([(consumer, i, now) for i in ids], processors, memo={2}))


def handled_lookup(dialect: str, table: str, mark: str) -> Callable[[str, list[str]], tuple[str, tuple]]:
    """The query of a batch's handled-message ids, for the dialect: ``(consumer, ids) -> (sql, parameters)``.

    On PostgreSQL one array of ids, each probed by the primary key (consumer, message_id). Why (issue #16):
    psycopg prepares a statement run five times, and PostgreSQL may then keep a generic plan, made without the
    parameters' values; for ``consumer = $1 AND message_id IN ($2 … $1001)`` on a table whose statistics lag its
    growth (a new deployment, a storm) that plan reads every row of the consumer and compares each with the whole
    list: 2,250 ms per 1,000-message batch at 100,000 rows, against 4.6 ms for this form (bench/handled_lookup.py).
    On SQLite the ``IN`` list, one text per batch size (the runner's poll is bounded)."""
    if dialect == "postgresql":
        # LATERAL … LIMIT 1: a nested loop, an index probe per id, is the only plan (an EXISTS may hash-join the
        # consumer's every row); its generic plan is that too, on an empty table and on one without statistics.
        sql = (f"SELECT m.id FROM unnest({mark}::varchar[]) AS m(id) CROSS JOIN LATERAL "
               f"(SELECT 1 FROM {table} h WHERE h.consumer = {mark} AND h.message_id = m.id LIMIT 1) AS x")
        return lambda consumer, ids: (sql, (ids, consumer))
    queries: dict[int, str] = {}

    def in_list(consumer: str, ids: list[str]) -> tuple[str, tuple]:
        query = queries.get(len(ids))
        if query is None:
            query = queries[len(ids)] = (f"SELECT message_id FROM {table} WHERE consumer = {mark} "
                                         f"AND message_id IN ({', '.join([mark] * len(ids))})")
        return query, (consumer, *ids)

    return in_list


class OutboxRelay(threading.Thread):
    """Publishes committed outbox rows to the bus in order, then deletes them.

    It holds the service's outbox lock while it reads, publishes and deletes a batch (on SQLite an ``flock`` on a
    file beside the database, on PostgreSQL an advisory lock), so two instances of a service never publish the same
    rows or reorder one key's messages. A crash between publish and delete republishes the batch: consumers are
    idempotent. On SQLite the database's write lock is held only for the delete: held while publishing, as it
    was, it kept sensing's grouping consumer, split into a process of its own, waiting (issue #16).
    """

    BATCH = 500

    def __init__(self, db: Database, bus: Bus, poll_interval: float = 0.5, linger: float = 0.005):
        super().__init__(name=f"{db.service_name}-outbox-relay", daemon=True)
        self.db = db
        self.bus = bus
        self.poll_interval = poll_interval
        # Like Kafka's linger.ms: after a wake-up, wait a few ms so one publish carries many messages.
        self.linger = linger
        self._stopping = threading.Event()
        self.published = 0
        self.lock_id = zlib.crc32(f"gridgov-outbox-{db.service_name}".encode())
        # Built once: a relay under load runs these every few milliseconds (#18).
        outbox = db.tables.outbox
        self._select_batch = select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.value).order_by(
            outbox.c.id).limit(self.BATCH)
        # The delete as the driver's own statement: an expanding IN was compiled again for every batch, a tenth of
        # the relay's time in sensing's alarm replay (issue #16). SQLite steps one prepared statement per id in C;
        # PostgreSQL takes one array, each id probed by the primary key.
        self._delete_sql = (f"DELETE FROM {outbox.name} WHERE id = ?" if db.is_sqlite
                            else f"DELETE FROM {outbox.name} WHERE id = ANY(%s::bigint[])")
        # SQLite's relays' lock: a file beside the database (the relays of other processes) and this relay's own
        # lock (its thread and a drain from another); None for a database in memory, one connection's alone.
        file = sqlite_file(db.url)
        self._lock_file = file + "-relay" if file else None
        self._relaying = threading.Lock()

    def stop(self) -> None:
        """Ask the relay to finish its current batch and stop."""
        self._stopping.set()
        self.db.outbox_written.set()

    def run(self) -> None:
        """Relay until stopped; errors (bus or database down) are logged and retried with backoff."""
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                moved = self.relay_once()
                backoff = 0.1
                if moved < self.BATCH:
                    if self.db.outbox_written.wait(self.poll_interval):
                        self._stopping.wait(self.linger)
                    self.db.outbox_written.clear()
            except Exception as exc:  # noqa: BLE001 - keep relaying after a transient failure
                log.warning("outbox relay failed, retrying in %.1fs: %s", backoff, exc)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def relay_once(self) -> int:
        """Publish one batch; returns how many messages it moved (0 also while another relay holds the lock)."""
        if self._lock_file is not None:
            return self._relay_once_sqlite()
        with self.db.engine.begin() as conn:
            if not self.db.is_sqlite:
                got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": self.lock_id}).scalar()
                if not got:
                    return 0
            # One SELECT, one publish and one DELETE per batch of up to BATCH rows.
            rows = conn.execute(self._select_batch).all()
            if not rows:
                return 0
            self.bus.publish([OutgoingMessage(r.topic, r.key, bytes(r.value)) for r in rows])
            # By id, not by range: on PostgreSQL a lower id can commit after a higher one was read.
            ids = [r.id for r in rows]
            conn.exec_driver_sql(self._delete_sql, [(i,) for i in ids] if self.db.is_sqlite else (ids,))
        self.published += len(rows)
        return len(rows)

    def _relay_once_sqlite(self) -> int:
        """``relay_once`` on a SQLite file: the batch read without the write lock (committed rows, in id order:
        SQLite's one writer gives ids in commit order), published, then deleted in a transaction of its own."""
        if not self._relaying.acquire(blocking=False):
            return 0
        try:
            fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return 0  # another process's relay is at it, as a refused advisory lock on PostgreSQL
                with self.db.engine.connect().execution_options(**{_SNAPSHOT: True}) as conn:
                    rows = conn.execute(self._select_batch).all()
                if not rows:
                    return 0
                self.bus.publish([OutgoingMessage(r.topic, r.key, bytes(r.value)) for r in rows])
                with self.db.engine.begin() as conn:
                    conn.exec_driver_sql(self._delete_sql, [(r.id,) for r in rows])
                self.published += len(rows)
                return len(rows)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)  # not only the close: a child forked meanwhile would hold it on
                os.close(fd)
        finally:
            self._relaying.release()

    def drain(self, timeout: float = 10.0) -> None:
        """Publish everything pending now (used by tests and at shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.relay_once():
                continue
            # Nothing moved: either the outbox is empty, or (PostgreSQL) another relay holds the lock and is
            # publishing right now — then wait for it rather than return with its batch still in flight.
            if self.db.outbox_backlog() == 0:
                return
            time.sleep(0.02)
