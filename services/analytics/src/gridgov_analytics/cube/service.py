"""Queries and writes on the read model: facts, daily counts (one upsert per distinct key) and the cube's state."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Select, String, and_, delete, func, literal, or_, select, type_coerce, update
from sqlmodel import Session

from gridgov_analytics.cube.models import BUS, HISTORY, CubeState, DailyCount, TicketFact
from gridgov_analytics.cube.projection import COUNT_KEY, FactState, Increment, PendingRating
from gridgov_analytics.tables import messaging
from gridgov_common.db import insert_statement

GENERATION = "generation"
GROUP_PREFIX = "analytics.cube-"
LEVEL_COLUMNS = {"grid": DailyCount.grid_code, "village": DailyCount.village_code, "town": DailyCount.town_code}
LOAD_CHUNK = 500  # ticket ids per IN (...) when loading facts


def consumer_group(generation: int) -> str:
    """The consumer group of a cube generation (a rebuild reads the topics again under a new one)."""
    return f"{GROUP_PREFIX}{generation}"


# --- facts ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredFact:
    """A fact as it was read before a batch: its state, where it came from, its kept history state."""

    state: FactState
    origin: str
    history_state: str | None


_FACT_FIELDS = [f.name for f in fields(FactState)]


def fact_columns(fact: FactState) -> dict:
    """The ``ticket_fact`` columns of a fact (guards flattened to text)."""
    row = {name: getattr(fact, name) for name in _FACT_FIELDS}
    row["last_actions"] = ",".join(fact.last_actions)
    row["rated_ids"] = ",".join(fact.rated_ids)
    row["pending"] = json.dumps([[p.day.isoformat(), p.dissatisfied] for p in fact.pending]) if fact.pending else ""
    return row


def _from_row(row: TicketFact) -> FactState:
    """The fact of a ``ticket_fact`` row."""
    values = {name: getattr(row, name) for name in _FACT_FIELDS}
    values["last_actions"] = tuple(a for a in row.last_actions.split(",") if a)
    values["rated_ids"] = tuple(i for i in row.rated_ids.split(",") if i)
    values["pending"] = tuple(PendingRating(date.fromisoformat(d), bool(x)) for d, x in json.loads(row.pending)) \
        if row.pending else ()
    return FactState(**values)


def _snapshot(fact: FactState) -> str:
    """A fact as JSON text (the history state a rebuild restores)."""
    def plain(value):
        return value.isoformat() if isinstance(value, date | datetime) else value
    return json.dumps({k: plain(v) for k, v in fact_columns(fact).items()})


def _restore(text: str) -> dict:
    """The ``ticket_fact`` columns of a snapshot."""
    row = json.loads(text)
    for name in ("registered_at", "deadline", "closed_at", "last_event_at", "rated_at"):
        row[name] = datetime.fromisoformat(row[name]) if row[name] else None
    row["registered_day"] = date.fromisoformat(row["registered_day"]) if row["registered_day"] else None
    return row


def load_facts(session: Session, ticket_ids: Iterable[str]) -> dict[str, StoredFact]:
    """The stored facts of these tickets (those the read model has)."""
    ids = list(dict.fromkeys(ticket_ids))
    found: dict[str, StoredFact] = {}
    for start in range(0, len(ids), LOAD_CHUNK):
        rows = session.execute(select(TicketFact).where(TicketFact.ticket_id.in_(ids[start:start + LOAD_CHUNK])))
        for (row,) in rows:
            found[row.ticket_id] = StoredFact(_from_row(row), row.origin, row.history_state)
    return found


# The cube's upserts, each built once per dialect (``insert_statement``): a batch of the loop's few events spent
# more CPU building them — ``excluded`` makes an alias of the table with a proxy of every column, cyclic garbage
# the collector then walked — than running them (issue #18).
def _fact_upsert(insert):
    table = insert.table
    return insert.on_conflict_do_update(index_elements=[table.c.ticket_id], set_={
        c.name: insert.excluded[c.name] for c in table.c if c.name != "ticket_id"})


def _count_upsert(insert):
    return insert.on_conflict_do_update(index_elements=[*COUNT_KEY, "origin"],
                                        set_={"n": insert.table.c.n + insert.excluded.n})


def _state_set(insert):
    return insert.on_conflict_do_update(index_elements=["key"], set_={"value": insert.excluded.value})


def _state_once(insert):
    return insert.on_conflict_do_nothing(index_elements=["key"])


_GENERATION_VALUE = select(CubeState.value).where(CubeState.key == GENERATION)


def aggregate(increments: Iterable[Increment]) -> Counter:
    """The increments summed per distinct key (day, grid, village, town, category, channel, measure)."""
    totals: Counter = Counter()
    for inc in increments:
        totals[inc[:-1]] += inc.n  # the key: every field but n
    return totals


def apply_batch(session: Session, facts: Mapping[str, FactState], increments: Iterable[Increment], origin: str,
                before: Mapping[str, StoredFact | None] | None = None) -> tuple[int, int]:
    """Write a batch: each changed fact once, and one upsert per distinct count key (``n = n + excluded.n``).

    ``before`` holds the facts as they were read: a new fact takes the batch's origin, a stored one keeps its own;
    a history fact a bus event changes for the first time keeps its history state for a rebuild. Returns the
    number of facts and of count keys written."""
    before = before or {}
    fact_rows = []
    # Rows in key order: concurrent writers (consumer instances, history workers) then lock PostgreSQL's rows in the
    # same order and cannot deadlock on each other.
    for ticket_id, fact in sorted(facts.items()):
        old = before.get(ticket_id)
        row = fact_columns(fact)
        row["origin"] = old.origin if old else origin
        row["history_state"] = old.history_state if old else None
        if old and old.origin == HISTORY and origin == BUS and old.history_state is None:
            row["history_state"] = _snapshot(old.state)
        fact_rows.append(row)
    if fact_rows:
        # One statement, executed per row by the driver (executemany).
        session.execute(insert_statement(session, TicketFact.__table__, ("cube_fact",), _fact_upsert), fact_rows)
    totals = aggregate(increments)
    if totals:
        rows = [{**dict(zip(COUNT_KEY, key, strict=True)), "origin": origin, "n": n}
                for key, n in sorted(totals.items()) if n]
        session.execute(insert_statement(session, DailyCount.__table__, ("cube_count",), _count_upsert), rows)
    return len(fact_rows), len(totals)


# --- the cube's state: generation ----------------------------------------------------------------------------------

def generation(session: Session, *, lock: bool = False) -> int:
    """The cube's consumer generation (1 before any rebuild); ``lock`` holds its row until the transaction ends."""
    query = _GENERATION_VALUE
    if lock:
        # FOR UPDATE locks nothing while the row does not exist (before the first rebuild): a batch of generation 1
        # could then write its counts after the rebuild had cleared them. Creating the row first makes the two wait
        # for each other (a concurrent insert of the same key waits for the first to commit).
        session.execute(insert_statement(session, CubeState.__table__, ("cube_state_once",), _state_once),
                        [{"key": GENERATION, "value": "1"}])
        query = query.with_for_update()
    value = session.execute(query).scalar_one_or_none()
    return int(value) if value else 1


def set_state(session: Session, key: str, value: str) -> None:
    """Set one value of the cube's state."""
    session.execute(insert_statement(session, CubeState.__table__, ("cube_state_set",), _state_set),
                    [{"key": key, "value": value}])


def get_state(session: Session, key: str) -> str | None:
    """One value of the cube's state, None when unset."""
    return session.execute(select(CubeState.value).where(CubeState.key == key)).scalar_one_or_none()


def clear_bus_rows(session: Session) -> int:
    """Forget what the bus built (its counts and facts; history facts go back to their history state) and move
    to the next generation, which the consumers follow with a new group from the earliest offset. Returns it."""
    next_generation = generation(session, lock=True) + 1
    set_state(session, GENERATION, str(next_generation))
    # The superseded groups never run again: their handled-message records would only grow with every rebuild.
    handled = messaging.handled
    session.execute(delete(handled).where(handled.c.consumer.like(f"{GROUP_PREFIX}%"),
                                          handled.c.consumer != consumer_group(next_generation)))
    session.execute(delete(DailyCount).where(DailyCount.origin == BUS))
    session.execute(delete(TicketFact).where(TicketFact.origin == BUS))
    restored = session.execute(select(TicketFact.ticket_id, TicketFact.history_state)
                               .where(TicketFact.history_state.is_not(None))).all()
    for ticket_id, text in restored:
        values = _restore(text)
        values.pop("ticket_id", None)
        session.execute(update(TicketFact).where(TicketFact.ticket_id == ticket_id)
                        .values(**values, origin=HISTORY, history_state=None))
    return next_generation


# --- queries -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CountRow:
    """A sum of the cube: per day, area code at the asked level ('' for the city), measure, and what was asked."""

    day: date
    area: str
    measure: str
    n: int
    channel: str | None = None
    category_code: str | None = None


def _filtered(query: Select, *, start: date, end: date, area: tuple[str, str] | None,
              categories: Sequence[str] | None, channels: Sequence[str] | None,
              measures: Sequence[str] | None) -> Select:
    """The cube's rows within the days, area, categories (codes or code prefixes), channels and measures."""
    query = query.where(DailyCount.day >= start, DailyCount.day <= end)
    if measures:
        query = query.where(DailyCount.measure.in_(list(measures)))
    if area is not None:
        level, code = area
        query = query.where(LEVEL_COLUMNS[level] == code)
    if categories:
        # Codes are digits (checked by the caller), so a prefix needs no LIKE escaping.
        query = query.where(or_(*(DailyCount.category_code.like(f"{c}%") for c in categories)))
    if channels:
        query = query.where(DailyCount.channel.in_(list(channels)))
    return query


def counts(session: Session, *, start: date, end: date, bucket: str = "day", level: str = "city",
           area: tuple[str, str] | None = None, categories: Sequence[str] | None = None,
           channels: Sequence[str] | None = None, measures: Sequence[str],
           by: Sequence[str] = ()) -> list[CountRow]:
    """Sums of the cube per day (``bucket`` 'week': the Monday starting it), area at ``level`` and measure, and per
    ``by`` ('channel', 'category_code') too, within the filters; zero sums are left out."""
    area_column = literal("") if level == "city" else LEVEL_COLUMNS[level]
    extra = [DailyCount.channel if b == "channel" else DailyCount.category_code for b in by]
    group = [DailyCount.day, area_column, DailyCount.measure, *extra]
    query = _filtered(select(*group, func.sum(DailyCount.n)), start=start, end=end, area=area,
                      categories=categories, channels=channels, measures=measures).group_by(*group)
    sums: Counter = Counter()
    for row in session.execute(query):
        day = row[0] if bucket == "day" else week_start(row[0])
        sums[(day, row[1], row[2], *row[3:3 + len(extra)])] += int(row[-1] or 0)
    out = []
    for key, n in sorted(sums.items()):
        if not n:
            continue
        named = dict(zip(by, key[3:], strict=True))
        out.append(CountRow(key[0], key[1], key[2], n, channel=named.get("channel"),
                            category_code=named.get("category_code")))
    return out


def daily_series(session: Session, *, start: date, end: date, level: str, area: tuple[str, str] | None,
                 categories: Sequence[str] | None, channels: Sequence[str] | None, measure: str,
                 per_category: bool = True) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """One measure's daily counts per (area code at ``level``, category) — per ``(area code,)`` with
    ``per_category`` False — over ``start``..``end``, as the keys and a matrix of a row per key and a column per
    day; areas not located to the level ('') are left out.

    The surges' and the hot spots' read (``counts`` gives the same sums as rows): a 90-day city at grid level has
    124,713 such series from ~208,000 sums, and rows of named objects, sorted, were over half of the surges'
    seconds (and of the hot spots')."""
    column = LEVEL_COLUMNS[level]
    # the day as the driver gives it (SQLite: text; PostgreSQL: a date), looked up once per distinct day
    day = type_coerce(DailyCount.day, String)
    keys = (column, DailyCount.category_code) if per_category else (column,)
    query = _filtered(select(*keys, day, func.sum(DailyCount.n)), start=start, end=end,
                      area=area, categories=categories, channels=channels, measures=[measure])
    query = query.where(column != "").group_by(*keys, day)
    days = (end - start).days + 1
    index: dict[tuple[str, ...], int] = {}
    day_of: dict[Any, int] = {}
    rows, cols, values = [], [], []
    for row in session.connection().execute(query):  # Core rows: plain columns, no ORM handling
        when = row[-2]
        col = day_of.get(when)
        if col is None:
            col = day_of[when] = ((when if isinstance(when, date) else date.fromisoformat(when)) - start).days
        rows.append(index.setdefault(row[:-2], len(index)))
        cols.append(col)
        values.append(int(row[-1] or 0))
    matrix = np.zeros((len(index), days), dtype=np.int64)
    np.add.at(matrix, (np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)),
              np.asarray(values, dtype=np.int64))
    return list(index), matrix


def week_start(day: date) -> date:
    """The Monday of a day's week."""
    return date.fromordinal(day.toordinal() - day.weekday())


def area_totals(session: Session, *, start: date, end: date, level: str, parent: str | None,
                categories: Sequence[str] | None, channels: Sequence[str] | None,
                measures: Sequence[str]) -> dict[str, dict[str, int]]:
    """``{area code: {measure: n}}`` over the days, for the areas of ``level`` under ``parent`` (a town or village)."""
    column = LEVEL_COLUMNS[level]
    query = _filtered(select(column, DailyCount.measure, func.sum(DailyCount.n)), start=start, end=end, area=None,
                      categories=categories, channels=channels, measures=measures)
    if parent:
        query = query.where(or_(DailyCount.town_code == parent, DailyCount.village_code == parent))
    totals: dict[str, dict[str, int]] = {}
    for code, measure, n in session.execute(query.group_by(column, DailyCount.measure)):
        totals.setdefault(code, {})[measure] = int(n or 0)
    return totals


def knows_area(session: Session, level: str, code: str) -> bool:
    """Whether the cube holds any count recorded on this area code."""
    return session.execute(select(literal(1)).where(LEVEL_COLUMNS[level] == code).limit(1)).first() is not None


def knows_category(session: Session, prefix: str) -> bool:
    """Whether the cube holds any count of a category code starting with ``prefix``."""
    return session.execute(select(literal(1)).where(DailyCount.category_code.like(f"{prefix}%"))
                           .limit(1)).first() is not None


def total(session: Session, *, origin: str | None = None) -> dict[str, int]:
    """``{measure: n}`` over the whole cube (of one origin if given): a rebuild's check."""
    query = select(DailyCount.measure, func.sum(DailyCount.n)).group_by(DailyCount.measure)
    if origin:
        query = query.where(DailyCount.origin == origin)
    return {m: int(n) for m, n in session.execute(query)}


def fact_count(session: Session, origin: str | None = None) -> int:
    """How many ticket facts the read model holds (of one origin if given)."""
    query = select(func.count()).select_from(TicketFact)
    if origin:
        query = query.where(and_(TicketFact.origin == origin))
    return int(session.execute(query).scalar_one())

