"""``gridgov history generate``: plan the demo city's past and load it through each service's own bulk loader.

The CLI only orchestrates: the plan is ``history.plan`` (pure), the rows are made by the services that own them —
dispatch's ``tickets.backfill`` (rule engine, lifecycle table, SLA clocks), intake's ``reports.backfill``, and
the analytics read model's ``cube.backfill.load_history`` fed with the events dispatch's loader built. Nothing goes
on the bus (the history is old cases; see the loaders' docstrings).

Before loading it brings each database to its migrations' head and runs the services' own idempotent seeds (grids,
the grid workers' roster, departments, catalog, rules): on ``gridgov up`` the services have done so already (it runs
after they are ready, so these are no-ops), and ``gridgov history generate`` then also works on a stopped stack. It
writes ``<data dir>/history.partial.json`` first (the moment the past ends, so a re-run after an interruption plans
the very same cases and its ON CONFLICT DO NOTHING inserts complete the load) and ``history.json`` last: what was
generated, the row counts and the seconds each part took.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from tqdm import tqdm

from gridgov_cli.history.plan import CITY_TZ, CategoryInfo, GridInfo, PlannedCase, draw_history

MARKER = "history.json"
PARTIAL = "history.partial.json"
RECENT_DAYS = 28  # the marker's ``seconds.recent``: when the last four weeks were complete (loaded newest first)
POINTS_PER_GRID = 8
log = logging.getLogger(__name__)


def marker(data_dir: Path) -> dict[str, Any] | None:
    """The history generated in this data directory (``history.json``), or None."""
    path = data_dir / MARKER
    return json.loads(path.read_text()) if path.exists() else None


def _databases(data_dir: Path) -> dict[str, Any]:
    """Each service's database at its migrations' head, seeded (the services' own idempotent seeds)."""
    os.environ["GRIDGOV_DATA_DIR"] = str(data_dir.resolve())
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head
    from gridgov_dispatch.app import build_runtime as dispatch_runtime
    from gridgov_dispatch.catalog import service as dispatch_catalog
    from gridgov_dispatch.departments import service as dispatch_departments
    from gridgov_dispatch.rules import service as dispatch_rules
    from gridgov_event_intake.app import open_database as intake_database
    from gridgov_event_intake.settings import IntakeSettings
    from gridgov_grid_registry.departments import handlers as registry_departments
    from gridgov_grid_registry.grids import handlers as registry_grids
    from gridgov_grid_registry.roster import handlers as registry_roster
    from gridgov_grid_registry.settings import RegistrySettings
    from gridgov_grid_registry.tables import metadata as registry_metadata

    dispatch = dispatch_runtime()
    upgrade_to_head(dispatch.db, "gridgov_dispatch")
    for seed in (dispatch_departments.seed, dispatch_catalog.seed, dispatch_rules.seed):
        seed(dispatch.db)
    intake_settings = IntakeSettings()
    intake = intake_database(intake_settings.resolved_database_url(), intake_settings.service_name)
    upgrade_to_head(intake, "gridgov_event_intake")
    reg_settings = RegistrySettings()
    registry = Database(reg_settings.resolved_database_url(), registry_metadata, reg_settings.service_name)
    upgrade_to_head(registry, "gridgov_grid_registry")
    registry_grids.seed_demo(registry)
    registry_roster.seed_demo(registry)
    registry_departments.seed_demo(registry)
    out = {"dispatch": dispatch, "intake": intake, "registry": registry, "analytics": None}
    try:
        from gridgov_analytics.app import build_runtime as analytics_runtime  # type: ignore[import-not-found]
        from gridgov_analytics.cube import backfill as _analytics_backfill  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        log.warning("analytics is not installed: its read model gets no history")
    else:
        analytics = analytics_runtime()
        upgrade_to_head(analytics.db, "gridgov_analytics")
        out["analytics"] = analytics.db
    return out


def city_grids(registry: Any, seed: int) -> list[GridInfo]:
    """The grids of the set in effect, each with a few points inside it (deterministic from the seed) and its grid
    workers on the roster (who patrolled it and checked its cases)."""
    from gridgov_grid_registry.grids import service as grids
    from gridgov_grid_registry.roster import service as roster

    with registry.session() as session:
        current = grids.effective_grid_set(session, datetime.now(UTC))
        if current is None:
            raise RuntimeError("grid-registry has no grid set in effect")
        rows = grids.index_rows(session, current.version)
        codes = sorted(r.code for r in rows if r.level == "grid")
        workers: dict[str, list[str]] = {}
        for start in range(0, len(codes), 500):  # the roster by grid then id
            for w in roster.of_grids(session, codes[start:start + 500]):
                workers.setdefault(w.grid_code, []).append(w.worker_id)
    names = {r.code: r.name for r in rows}
    parents = {r.code: r.parent_code for r in rows}
    rng = np.random.default_rng(seed)
    out = []
    for r in sorted((r for r in rows if r.level == "grid"), key=lambda r: r.code):
        geom = r.geometry
        shapely.prepare(geom)
        x0, y0, x1, y1 = geom.bounds
        xs, ys = rng.uniform(x0, x1, 64), rng.uniform(y0, y1, 64)
        inside = shapely.contains_xy(geom, xs, ys)
        pts = [(round(float(x), 6), round(float(y), 6)) for x, y in zip(xs[inside], ys[inside], strict=True)]
        if not pts:
            p = geom.representative_point()
            pts = [(p.x, p.y)]
        village = parents[r.code] or ""
        town = parents.get(village) or ""
        out.append(GridInfo(r.code, village, town, tuple(pts[:POINTS_PER_GRID]), r.name, names.get(village, ""),
                            names.get(town, ""), tuple(workers.get(r.code, ()))))
    return out


def _department_areas(registry: Any, grids: list[GridInfo]) -> Callable[[PlannedCase], frozenset[str]]:
    """Which department areas (责任区) cover a case's point, as the registry would have told dispatch (looked up
    once per point, before any worker starts)."""
    from gridgov_grid_registry.departments import handlers as registry_departments

    layer = registry_departments.load_layer(registry)
    points = sorted({p for g in grids for p in g.points})
    # one bulk query of the areas' tree for the ~23,000 grid points (what ``layer.covering`` answers point by
    # point; it took seconds, serially, before any worker started)
    tree = shapely.STRtree([a.geometry for a in layer.areas])
    hit_points, hit_areas = tree.query(shapely.points(points), predicate="intersects") if points and layer.areas \
        else (np.array([], dtype=int), np.array([], dtype=int))
    found: dict[int, set[str]] = {}
    for i, a in zip(hit_points.tolist(), hit_areas.tolist(), strict=True):
        found.setdefault(i, set()).add(layer.areas[a].code)
    known = {p: frozenset(found.get(i, ())) for i, p in enumerate(points)}

    def areas(case: PlannedCase) -> frozenset[str]:
        found = known.get((case.lon, case.lat))  # an empty set is an answer too: no area covers that point
        return found if found is not None else frozenset(a.code for a in layer.covering(case.lon, case.lat))

    return areas


def _the_end(data_dir: Path, days: int, per_day: int, seed: int) -> datetime:
    """The moment the past ends: now, or the moment an interrupted run of the same plan chose."""
    path = data_dir / PARTIAL
    if path.exists():
        partial = json.loads(path.read_text())
        if (partial.get("days"), partial.get("per_day"), partial.get("seed")) == (days, per_day, seed):
            return datetime.fromisoformat(partial["now"])
    now = datetime.now(UTC).replace(microsecond=0)
    path.write_text(json.dumps({"days": days, "per_day": per_day, "seed": seed, "now": now.isoformat()}))
    return now


_WORK: dict[str, Any] = {}  # what the worker processes inherit (fork): the plan's draws, the loader, the databases


@contextmanager
def _collect_once() -> Iterator[None]:
    """No automatic collection while a chunk loads; one young collection after it.

    Why (issue #15): a chunk builds hundreds of thousands of objects that live until it is written (its cases,
    tickets, transitions, events); automatic collections walked them again and again and promoted them, and the
    full collections then walked every one: in a 6-day run the two workers spent 2.5 s of CPU collecting (0.12 s
    now; 12 days, 3 runs each: 34.8 -> 29.3 s). Reference counting frees the chunk when it is done; the collection
    after it takes whatever cycles it left, so memory stays bounded by one chunk (the largest process's peak RSS
    was 258 MB before and after).
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(1)


def _load_chunk(start: int) -> dict[str, Any]:
    """Make one chunk of the plan's cases and load it into dispatch, intake and analytics; its counts, seconds and
    the chunk's outcomes and channels."""
    with _collect_once():  # the chunk's objects are freed as ``_load`` returns, before the collection runs
        return _load(start)


def _load(start: int) -> dict[str, Any]:
    """``_load_chunk``'s work."""
    from gridgov_event_intake.reports import backfill as intake_backfill

    draws, dbs, loader, chunk = _WORK["draws"], _WORK["dbs"], _WORK["loader"], _WORK["chunk"]
    t0 = time.perf_counter()
    part = draws.cases(start, start + chunk)  # made here, in the worker: the parent only drew the plan
    t1 = time.perf_counter()
    made = loader.write(part)
    t2 = time.perf_counter()
    reports = intake_backfill.load(dbs["intake"], part, made.finals)
    t3 = time.perf_counter()
    out: dict[str, Any] = {
        "cases": len(part), "report": reports, "ticket": made.tickets, "ticket_transition": made.transitions,
        "ticket_rating": made.ratings, "events": len(made.events), "plan_s": t1 - t0, "dispatch_s": t2 - t1,
        "intake_s": t3 - t2, "start": start, "outcomes": Counter(c.outcome for c in part),
        "channels": Counter(c.channel for c in part)}
    if dbs["analytics"] is not None:
        from gridgov_analytics.cube.backfill import load_history  # type: ignore[import-not-found]

        stats = load_history(dbs["analytics"], made.events)
        out.update(analytics_facts=stats.facts_written, analytics_count_keys=stats.count_keys_written,
                   analytics_s=time.perf_counter() - t3)
    return out


def _worker_init() -> None:
    """A forked worker: its own connections (the parent's stay the parent's)."""
    for db in _engines():
        db.engine.dispose(close=False)


# The loader's own SQLite connections (only this command's engines, for the load's duration; the services' live
# connections keep theirs). A page cache big enough for the indexes a chunk touches: with SQLite's default (2 MB)
# each chunk read its index pages again and spilled dirty ones to the WAL before committing. A checkpoint after
# 64 MB of WAL instead of 4 MB: a page the next chunks change again (an index's hot pages) is copied into the
# database once, not after every commit. Neither changes durability: WAL with synchronous=NORMAL as before.
LOAD_PRAGMAS = ("PRAGMA cache_size=-65536", "PRAGMA wal_autocheckpoint=16384")


def _checkpoint(engine: Any) -> None:
    """Copy what the load left in the WAL into the database now (PASSIVE: waits for no reader), so the services'
    next commit does not (their own checkpoints start at 4 MB of WAL; the load's may hold 64 MB)."""
    if engine.dialect.name == "sqlite":
        conn = engine.raw_connection()  # outside a transaction: the engine's connections begin IMMEDIATE
        try:
            conn.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()


def _tune_for_load(engine: Any) -> None:
    """Have every new connection of this (history-only) engine use ``LOAD_PRAGMAS`` (SQLite only)."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _load_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        for pragma in LOAD_PRAGMAS:
            cur.execute(pragma)
        cur.close()


def _engines() -> list[Any]:
    dbs = _WORK["dbs"]
    return [dbs["dispatch"].db, dbs["intake"], dbs["registry"], *([dbs["analytics"]] if dbs["analytics"] else [])]


def generate(data_dir: Path, *, days: int = 90, per_day: int = 2400, seed: int = 15, show: bool = True,
             chunk: int = 2_500, jobs: int = 0) -> dict[str, Any]:
    """Plan the past and load it into dispatch, intake and analytics; returns (and writes) the marker.

    Chunks of cases are independent (each ticket's whole past is in one chunk), so up to ``jobs`` forked worker
    processes load them side by side (default: one more than the CPUs, at most 4); each chunk is a few short
    transactions.
    """
    from gridgov_dispatch.context import DispatchContext
    from gridgov_dispatch.feedback.backfill import Ratings
    from gridgov_dispatch.tickets.backfill import Loader

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    dbs = _databases(data_dir)
    dispatch = dbs["dispatch"]
    seconds["prepare"] = time.perf_counter() - t0

    t = time.perf_counter()
    now = _the_end(data_dir, days, per_day, seed)
    ctx = DispatchContext(dispatch.db, dispatch.settings)
    categories = [CategoryInfo(i.code, i.name_zh) for i in ctx.catalog().items() if i.level == "middle"]
    grids = city_grids(dbs["registry"], seed)
    end = now.astimezone(CITY_TZ).date()
    plan = draw_history(grids, categories, end=end, days=days, per_day=per_day, seed=seed, now=now)
    seconds["plan"] = time.perf_counter() - t

    t = time.perf_counter()
    _WORK.update(draws=plan, dbs=dbs, chunk=chunk,
                 loader=Loader(ctx, now, Ratings(dispatch.settings.reopen_satisfaction_max),
                               _department_areas(dbs["registry"], grids)))
    # Newest chunks first: what the console shows first (the board's last days, the open backlog, the risk map's
    # last weeks) is complete early in the load, while older weeks are still coming in. Chunks are independent.
    starts = list(range(0, plan.n, chunk))[::-1]
    # One worker more than the CPUs by default: a worker waiting for a database's one SQLite write lock leaves its
    # core to the spare one. 90 days on this 2-CPU machine, interleaved (2026-12-07): 2 workers 69.6-82.8 s
    # (median 78.0 of 3), 3 workers 64.9-69.4 s (median 68.7 of 5), 4 workers 63.6 and 71.9 s.
    jobs = max(1, min(jobs or min((os.cpu_count() or 1) + 1, 4), len(starts)))
    totals: Counter[str] = Counter()
    mixes: dict[int, tuple[Counter[str], Counter[str]]] = {}  # chunk start → its outcomes and channels
    bar = tqdm(total=plan.n, unit=" cases", desc="history", disable=not show, mininterval=0.5)
    for db in _engines():
        db.engine.dispose()  # no connection crosses the fork; the loader's connections are made anew, tuned
        _tune_for_load(db.engine)
    # What exists now (the plan, the loader, the catalogs, the libraries) lives until the end: out of the
    # collector's scans, in this process and in the workers forked from it; back in at the end (``unfreeze``).
    gc.collect()
    gc.freeze()
    if jobs == 1:
        results: Iterator[dict[str, Any]] = map(_load_chunk, starts)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_init)
        results = pool.imap_unordered(_load_chunk, starts)
    complete = 0  # how many of ``starts`` (newest first) are loaded with every newer one
    recent_from = plan.end - timedelta(days=RECENT_DAYS - 1)
    try:
        for done in results:
            mixes[done.pop("start")] = (done.pop("outcomes"), done.pop("channels"))
            totals.update(done)
            while complete < len(starts) and starts[complete] in mixes:
                complete += 1
            if complete:
                since = plan.day_of(starts[complete - 1])
                bar.set_postfix_str(f"complete since {since:%Y-%m-%d}", refresh=False)
                if since <= recent_from and "recent" not in seconds:
                    seconds["recent"] = time.perf_counter() - t0
            bar.update(int(done["cases"]))
    finally:
        bar.close()
        if pool is not None:
            pool.close()
            pool.join()
        _WORK.clear()
        gc.unfreeze()
    for engine in (dispatch.db.engine, dbs["intake"].engine, *([dbs["analytics"].engine] if dbs["analytics"] else [])):
        _checkpoint(engine)
    seconds["load"] = time.perf_counter() - t
    for part in ("plan", "dispatch", "intake", "analytics"):  # summed over workers: CPU-ish, not wall
        if f"{part}_s" in totals:
            seconds[f"{part}_summed"] = totals.pop(f"{part}_s")
    seconds["total"] = time.perf_counter() - t0
    totals.pop("cases", None)
    outcomes: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for start in sorted(mixes):  # in the plan's order: the same keys in the same order however the chunks ran
        outcomes.update(mixes[start][0])
        channels.update(mixes[start][1])
    result = {
        "generated_at": now.isoformat(), "seed": seed, "days": days, "per_day": per_day,
        "from": plan.start.isoformat(), "to": plan.end.isoformat(), "cases": plan.n, "jobs": jobs,
        "rows": {k: int(v) for k, v in totals.items()}, "outcomes": dict(outcomes), "channels": dict(channels),
        "planted": [_planted(p) for p in plan.planted],
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }
    (data_dir / MARKER).write_text(json.dumps(result, ensure_ascii=False, indent=1))
    (data_dir / PARTIAL).unlink(missing_ok=True)
    for db in (dispatch.db, dbs["intake"], dbs["registry"], *([dbs["analytics"]] if dbs["analytics"] else [])):
        db.engine.dispose()
    return result


def _planted(p: Any) -> dict[str, Any]:
    data = asdict(p)
    data["first_day"], data["last_day"] = p.first_day.isoformat(), p.last_day.isoformat()
    return data


def _plain(value: Any) -> Any:
    """Stats as JSON can hold them (a dataclass, a mapping or a number)."""
    if value is None or isinstance(value, int | float | str):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def ensure(data_dir: Path, **kwargs: Any) -> dict[str, Any] | None:
    """Generate the history unless this data directory has one (``history.json``); None when it had."""
    if marker(data_dir) is not None:
        return None
    return generate(data_dir, **kwargs)

