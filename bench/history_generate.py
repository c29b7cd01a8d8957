"""Benchmark: ``gridgov history generate`` before/after the loader changes of 2026-12-03, interleaved (issue #15).

Each run is a fresh process generating a small past into a fresh data directory (``--days`` × ``--per-day``,
seed 15, the end pinned through ``history.partial.json``, ``--jobs`` workers). "before" puts back, in that
process, the two pieces this change replaced — SQLAlchemy's ``conn.execute(insert, rows)`` in dispatch's loader
and one ``layer.covering`` per grid point for the department areas — so both variants run the same code otherwise,
on the same machine moment (A, B, A, B …). CPU seconds are the child's (and its workers') user + system time;
wall seconds are noted with the load average. Both variants must write the same rows (digest checked).

Run:  uv run --frozen python bench/history_generate.py [--days 6] [--per-day 2400] [--runs 2] [--jobs 1]
Results: bench/results/history_generate.json (appended as a run labelled "interleaved-2026-12-03").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
END = "2026-11-20T06:30:00+00:00"


def _before() -> None:
    """Put back the replaced pieces (the code as it was before the change) in this process."""
    from gridgov_cli.history import run
    from gridgov_dispatch.tickets import backfill

    def insert_rows(conn, table, rows):
        conn.execute(backfill.insert_ignore(conn.dialect.name, table), rows)

    def department_areas(registry, grids):
        from gridgov_grid_registry.departments import handlers as registry_departments

        layer = registry_departments.load_layer(registry)
        known = {p: frozenset(a.code for a in layer.covering(*p)) for g in grids for p in g.points}

        def areas(case):
            return known.get((case.lon, case.lat)) or frozenset(a.code for a in layer.covering(case.lon, case.lat))

        return areas

    backfill.insert_rows = insert_rows
    run._department_areas = department_areas


def child(variant: str, data_dir: Path, days: int, per_day: int, jobs: int) -> None:
    """Generate the past in this process (the variant's code) and print the marker's seconds and the digest."""
    sys.path.insert(0, str(ROOT / "tests" / "cli"))
    if variant == "before":
        _before()
    from test_history_digest import digest  # type: ignore[import-not-found]

    from gridgov_cli.history import run

    data_dir.mkdir(parents=True)
    (data_dir / run.PARTIAL).write_text(json.dumps({"days": days, "per_day": per_day, "seed": 15, "now": END}))
    result = run.generate(data_dir, days=days, per_day=per_day, seed=15, show=False, jobs=jobs)
    counts, sha = digest(data_dir)
    print(json.dumps({"seconds": result["seconds"], "cases": result["cases"], "rows": counts, "digest": sha}))


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> int:
    """Run the variants interleaved and print (and save) medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=6)
    ap.add_argument("--per-day", type=int, default=2400)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--child", choices=("before", "after"))
    ap.add_argument("--dir")
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args.child, Path(args.dir), args.days, args.per_day, args.jobs)
        return 0
    samples: dict[str, list[dict]] = {"before": [], "after": []}
    load_before = Path("/proc/loadavg").read_text().strip()
    for _ in range(args.runs):
        for variant in ("before", "after"):
            tmp = Path(tempfile.mkdtemp(prefix="gg_hist_bench_"))
            try:
                c0, w0 = _cpu_children(), time.perf_counter()
                out = subprocess.run([sys.executable, __file__, "--child", variant, "--dir", str(tmp / "var"),
                                      "--days", str(args.days), "--per-day", str(args.per_day),
                                      "--jobs", str(args.jobs)], capture_output=True, text=True, timeout=1800,
                                     env={**os.environ, "GRIDGOV_LOG_LEVEL": "WARNING"})
                if out.returncode != 0:
                    print(out.stderr[-3000:], file=sys.stderr)
                    return 1
                got = json.loads(out.stdout.strip().splitlines()[-1])
                got.update(cpu_s=round(_cpu_children() - c0, 2), wall_s=round(time.perf_counter() - w0, 2),
                           load=Path("/proc/loadavg").read_text().strip())
                samples[variant].append(got)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    digests = {s["digest"] for v in samples.values() for s in v}
    if len(digests) != 1:
        print(f"the variants wrote different rows: {digests}", file=sys.stderr)
        return 1
    med = {v: {"cpu_s": statistics.median(s["cpu_s"] for s in runs), "wall_s": statistics.median(s["wall_s"]
                                                                                                for s in runs),
               "cpu_s_each": [s["cpu_s"] for s in runs], "dispatch_summed_s": [s["seconds"].get("dispatch_summed")
                                                                               for s in runs]}
           for v, runs in samples.items()}
    result = {
        "label": "interleaved-2026-12-03",
        "command": f"uv run --frozen python bench/history_generate.py --days {args.days} --per-day {args.per_day} "
                   f"--runs {args.runs} --jobs {args.jobs}",
        "cases": samples["after"][0]["cases"], "rows": samples["after"][0]["rows"], "digest": digests.pop(),
        "load_before": load_before, "load_after": Path("/proc/loadavg").read_text().strip(),
        "medians": med, "cpu_ratio_before_over_after": round(med["before"]["cpu_s"] / med["after"]["cpu_s"], 2),
    }
    print(json.dumps(result, indent=1))
    if args.save:
        path = ROOT / "bench" / "results" / "history_generate.json"
        data = json.loads(path.read_text())
        data["runs"].append(result)
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
