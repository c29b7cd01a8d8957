"""Benchmark: sensing's statements over the open alarm groups on SQLite at the Dongguan scale (issue #16).

A migrated sensing database gets ``--groups`` open alarm groups (types spread evenly over the seeded types, codes
over 2,930 grids, 600 villages and 33 towns; all seen in the last minute, so nothing closes), then two statements
are timed, each against the form it replaced (written out here as it was), interleaved, ``--rounds`` times:

- the sweeper (``alarms.handlers.close_quiet_groups``): one UPDATE with every type's window in a CASE, against one
  UPDATE per type (each walked every open group on SQLite: ``is_open = 1`` by ``ix_alarm_group_open_grid``);
- an inhibition rule's look-up of superior groups (``alarms.handlers._sources``, smoke_fire over exposed_garbage in
  one grid, village and town) by ``ix_alarm_group_open_type``, against the same conditions as SQLAlchemy wrote them.

Both forms must give the same answer (asserted). The grouping consumer's own statements are measured end to end by
``bench/sensing_alarms.py --devices 450000 --alarms 1000000``.

Run:  uv run --frozen python bench/sensing_open_groups.py [--groups 212000] [--rounds 5] [--save]
Results: bench/results/sensing_open_groups.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, or_, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_sensing.alarms import handlers  # noqa: E402
from gridgov_sensing.alarms.directory import directory_of  # noqa: E402
from gridgov_sensing.alarms.handlers import QUIET_CLOSABLE, SOURCE_STATES, SOURCES_MAX, G  # noqa: E402
from gridgov_sensing.suppression.engine import Candidate  # noqa: E402
from services.sensing.tests.alarm_support import make_db  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sensing_open_groups.json"
NOW = datetime(2026, 12, 6, tzinfo=UTC)


def build(groups: int):
    """A migrated SQLite sensing database with ``groups`` open groups; the database and its directory."""
    db = make_db(f"sqlite:///{tempfile.mkdtemp(prefix='gg_open_groups_')}/sensing.db", migrate=True)
    directory = directory_of(db)
    with db.session() as session:
        directory.refresh(session)
    codes = sorted(directory.types())
    rng = random.Random(16)
    rows = [dict(id=f"g{i}", fingerprint=f"fp{i}", alarm_type=codes[i % len(codes)], catalog_code="01002",
                 kind="camera", device_id=f"d{i}", device_kind="camera", grid_code=f"G{i % 2930}",
                 village_code=f"V{i % 600}", town_code=f"T{i % 33}", lon=113.7, lat=23.0,
                 state=rng.choice(["open", "recorded", "case", "pending_verification"]), is_open=True, count=1,
                 first_seen=NOW, last_seen=NOW - timedelta(seconds=rng.randrange(60)), flaps=0, flapping=False,
                 refired=False, state_changes=[], created_at=NOW) for i in range(groups)]
    with db.engine.begin() as conn:
        for start in range(0, groups, 20_000):
            conn.execute(insert(G), rows[start:start + 20_000])
    return db, directory


def sweep_per_type(db, directory, now: datetime) -> int:
    """The sweeper as it was: one UPDATE per alarm type."""
    closed = 0
    with db.session() as session:
        directory.refresh(session)
        for kind in directory.types().values():
            result = session.execute(update(G).where(
                G.c.alarm_type == kind.code, G.c.is_open, G.c.report_id.is_(None), G.c.state.in_(QUIET_CLOSABLE),
                G.c.last_seen < now - timedelta(seconds=kind.dedupe_window_s),
            ).values(is_open=False, state="closed", closed_at=now))
            closed += result.rowcount or 0
        session.commit()
    return closed


def sources_as_written(session, ctx, c: Candidate) -> list:
    """The superior-group look-up as SQLAlchemy wrote it (planned by SQLite's choice)."""
    places = [G.c.grid_code == c.grid_code, G.c.village_code == c.village_code, G.c.town_code == c.town_code]
    return session.execute(select(G.c.alarm_type, G.c.device_id, G.c.grid_code, G.c.village_code, G.c.town_code,
                                  G.c.last_seen, G.c.labels)
                           .where(G.c.is_open, G.c.resolved_at.is_(None), G.c.alarm_type.in_(sorted(ctx.sources)),
                                  G.c.state.in_(SOURCE_STATES), or_(*places)).limit(SOURCES_MAX)).all()


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def main() -> int:
    """Build the table, time both statements against their old forms, print (and with --save store) medians."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--groups", type=int, default=212_000, help="open groups (212,000: the 1,000,000-alarm replay's)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    db, directory = build(args.groups)
    built_s = round(time.perf_counter() - t0, 1)
    ctx = type("Ctx", (), {"sources": frozenset({"smoke_fire"})})()
    candidate = Candidate("exposed_garbage", "dX", "G7", "V7", "T7", None, NOW, {})
    ms: dict[str, list[float]] = {k: [] for k in ("sweep_per_type", "sweep_one_statement", "sources_as_written",
                                                  "sources_by_open_type_index")}
    found = set()
    for _ in range(max(1, min(args.rounds, 20))):
        for name, fn in (("sweep_per_type", lambda: sweep_per_type(db, directory, NOW)),
                         ("sweep_one_statement", lambda: handlers.close_quiet_groups(db, NOW))):
            elapsed, closed = timed(fn)
            assert closed == 0, closed  # every group was seen within its window: the walk alone is timed
            ms[name].append(elapsed)
        with db.session() as session:
            for name, fn in (("sources_as_written", lambda: sources_as_written(session, ctx, candidate)),
                             ("sources_by_open_type_index", lambda: handlers._sources(session, ctx, candidate))):
                elapsed, rows = timed(fn)
                ms[name].append(elapsed)
                found.add((name.startswith("sources_by"), len(rows)))
    assert len({n for _, n in found}) == 1, found  # both forms find the same number of superior groups
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "groups": args.groups,
        "types": len(directory.types()), "rounds": args.rounds, "table_built_s": built_s,
        "sources_found": next(iter(found))[1], "load_average": Path("/proc/loadavg").read_text().split()[:3],
        "median_ms": {k: round(statistics.median(v), 1) for k, v in ms.items()},
        "ms": {k: [round(x, 1) for x in v] for k, v in ms.items()},
    }
    print(json.dumps(result, indent=1))
    if args.save:
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
