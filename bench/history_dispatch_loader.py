"""Benchmark: dispatch's history loader (``tickets.backfill.Loader.write``) before/after, interleaved (issue #15).

Each sample is a fresh process with a fresh data directory: it brings the databases to head and seeds them, plans
``--days`` × ``--per-day`` cases of the demo city (seed 15, the end pinned), builds the ``Loader`` and times
``Loader.write`` over the plan in chunks of ``--chunk`` cases (as ``gridgov history generate`` does, one worker).
Only dispatch's code differs between the variants: "before" puts the dispatch package of another checkout
(``--before-src``, e.g. a ``git worktree`` of the commit before the change) first on the path; everything else
(plan, common libraries) is this tree's. Samples alternate before, after, before, after …

Each child reports the CPU seconds (``time.process_time``) and wall seconds of the ``Loader.write`` calls only,
per case, and a digest of what the loader made: every ticket, audit and rating row as stored (read back from the
database) and every event payload it returned (for analytics). Both variants must give the same digest.

Run:  uv run --frozen python bench/history_dispatch_loader.py --before-src /tmp/gg/A/base/services/dispatch/src \
          [--days 6] [--per-day 2400] [--rounds 3] [--save]
      uv run --frozen python bench/history_dispatch_loader.py --profile out.prof   (one "after" child, cProfile)
Results: bench/results/history_dispatch_loader.json (earlier runs kept under "previous").
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
END = "2026-11-20T06:30:00+00:00"  # a Friday afternoon in Dongguan (as the digest test pins it)
SEED = 15
TIMEOUT_S = 1800  # one child, bounded


def _digest(data_dir: Path, events: list) -> str:
    """sha256 over dispatch's rows (sorted) and the events in the order the loader returned them."""
    h = hashlib.sha256()
    conn = sqlite3.connect(data_dir / "dispatch.db")
    try:
        for table in ("ticket", "ticket_transition", "ticket_rating"):
            columns = sorted(r[1] for r in conn.execute(f'PRAGMA table_info("{table}")'))
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = sorted(repr(r) for r in conn.execute(f'SELECT {quoted} FROM "{table}"'))
            h.update(f"{table}:{len(rows)}\n".encode())
            for row in rows:
                h.update(row.encode() + b"\n")
    finally:
        conn.close()
    for kind, payload in events:
        h.update(kind.encode() + b" " + payload.model_dump_json().encode() + b"\n")
    return h.hexdigest()


def child(data_dir: Path, days: int, per_day: int, chunk: int, every: int, profile: str | None) -> dict:
    """Prepare, plan, then time ``Loader.write`` over the plan; the figures and the digest."""
    os.environ["GRIDGOV_DATA_DIR"] = str(data_dir)
    from datetime import datetime

    from gridgov_cli.history import run
    from gridgov_cli.history.plan import CITY_TZ, CategoryInfo, plan_history
    from gridgov_dispatch.context import DispatchContext
    from gridgov_dispatch.feedback.backfill import Ratings
    from gridgov_dispatch.tickets import backfill

    data_dir.mkdir(parents=True)
    dbs = run._databases(data_dir)
    dispatch = dbs["dispatch"]
    now = datetime.fromisoformat(END)
    ctx = DispatchContext(dispatch.db, dispatch.settings)
    categories = [CategoryInfo(i.code, i.name_zh) for i in ctx.catalog().items() if i.level == "middle"]
    grids = run.city_grids(dbs["registry"], SEED)
    plan = plan_history(grids, categories, end=now.astimezone(CITY_TZ).date(), days=days, per_day=per_day,
                        seed=SEED, now=now)
    areas = run._department_areas(dbs["registry"], grids)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    loader = backfill.Loader(ctx, now, Ratings(dispatch.settings.reopen_satisfaction_max), areas)
    events: list = []
    counts = {"tickets": 0, "transitions": 0, "ratings": 0}
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile(time.process_time)  # CPU: the machine is shared
        prof.enable()
    starts = range(0, len(plan.cases), chunk)[::every]
    # as ``gridgov history generate`` loads a chunk: what exists now frozen, no automatic collection during a
    # chunk, one young collection after it (``run._collect_once``): the collector's passes over a chunk's objects,
    # which the command does not make, were ~8 % of this child's samples (py-spy, 12 days)
    gc.collect()
    gc.freeze()
    for start in starts:
        with run._collect_once():
            made = loader.write(plan.cases[start:start + chunk])
        events.extend(made.events)
        counts["tickets"] += made.tickets
        counts["transitions"] += made.transitions
        counts["ratings"] += made.ratings
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    cases = sum(len(plan.cases[s:s + chunk]) for s in starts)
    return {"cases": cases, **counts, "events": len(events), "cpu_s": round(cpu, 3),
            "wall_s": round(wall, 3), "cpu_ms_per_case": round(1000 * cpu / cases, 4),
            "digest": _digest(data_dir, events), "src": backfill.__file__}


def _run_child(variant: str, args: argparse.Namespace) -> dict:
    env = {**os.environ, "GRIDGOV_LOG_LEVEL": "WARNING"}
    if variant == "before":
        env["PYTHONPATH"] = os.pathsep.join(p for p in (args.before_src, env.get("PYTHONPATH")) if p)
    tmp = Path(tempfile.mkdtemp(prefix="bench_", dir=args.work))
    try:
        out = subprocess.run([sys.executable, __file__, "--child", "--dir", str(tmp / "var"), "--days",
                              str(args.days), "--per-day", str(args.per_day), "--chunk", str(args.chunk),
                              "--every", str(args.every),
                              *(["--profile", args.profile] if args.profile else [])],
                             capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
        if out.returncode != 0:
            raise RuntimeError(f"{variant} child failed:\n{out.stderr[-4000:]}")
        got = json.loads(out.stdout.strip().splitlines()[-1])
        if variant == "before" and not got["src"].startswith(args.before_src):
            raise RuntimeError(f"the before child ran {got['src']}, not the code under {args.before_src}")
        return got
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    """Run the variants interleaved and print (and with --save, store) medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=6)
    ap.add_argument("--per-day", type=int, default=2400)
    ap.add_argument("--chunk", type=int, default=2500)
    ap.add_argument("--every", type=int, default=1, help="load every n-th chunk of the plan only (a sample of a "
                    "long past: its cases in every age, without loading all of it)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before-src", help="the dispatch src directory of the 'before' checkout")
    ap.add_argument("--work", default="/tmp/gg/A", help="where the fresh data directories go")
    ap.add_argument("--profile", help="cProfile the Loader.write calls of one 'after' child into this file")
    ap.add_argument("--save", action="store_true")
    ap.add_argument("--label", default="interleaved")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--dir")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.dir), args.days, args.per_day, args.chunk, args.every, args.profile)))
        return 0
    Path(args.work).mkdir(parents=True, exist_ok=True)
    if args.profile:
        print(json.dumps(_run_child("after", args), indent=1))
        return 0
    variants = ("before", "after") if args.before_src else ("after",)
    samples: dict[str, list[dict]] = {v: [] for v in variants}
    load_start = Path("/proc/loadavg").read_text().strip()
    for _ in range(args.rounds):
        for variant in variants:
            got = _run_child(variant, args)
            got["load"] = Path("/proc/loadavg").read_text().strip()
            samples[variant].append(got)
            print(variant, {k: got[k] for k in ("cpu_s", "wall_s", "cpu_ms_per_case", "load")}, file=sys.stderr)
    digests = {s["digest"] for runs in samples.values() for s in runs}
    medians = {v: {"cpu_s": statistics.median(s["cpu_s"] for s in runs),
                   "wall_s": statistics.median(s["wall_s"] for s in runs),
                   "cpu_ms_per_case": statistics.median(s["cpu_ms_per_case"] for s in runs),
                   "cpu_s_each": [s["cpu_s"] for s in runs], "wall_s_each": [s["wall_s"] for s in runs]}
               for v, runs in samples.items()}
    first = samples[variants[-1]][0]
    result = {
        "label": args.label, "commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                                      capture_output=True, text=True).stdout.strip(),
        "command": " ".join(sys.argv), "days": args.days, "per_day": args.per_day, "chunk": args.chunk,
        "every": args.every,
        "rounds": args.rounds, "cases": first["cases"],
        "rows": {k: first[k] for k in ("tickets", "transitions", "ratings", "events")},
        "same_digest": len(digests) == 1, "digests": sorted(digests),
        "load_start": load_start, "load_end": Path("/proc/loadavg").read_text().strip(), "medians": medians,
    }
    if args.before_src:
        result["cpu_ratio_before_over_after"] = round(medians["before"]["cpu_s"] / medians["after"]["cpu_s"], 2)
    print(json.dumps(result, indent=1))
    if args.save:
        path = ROOT / "bench" / "results" / "history_dispatch_loader.json"
        old = json.loads(path.read_text()) if path.exists() else None
        data = {"what": "dispatch's history loader (Loader.write), CPU and wall seconds, before/after interleaved",
                "latest": result, "previous": []}
        if old is not None:
            data["previous"] = [*old.get("previous", []), old["latest"]]
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return 0 if len(digests) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
