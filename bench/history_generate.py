"""Benchmark: ``gridgov history generate``, the code of a base commit against this tree, interleaved (issue #15).

Each run is a fresh process generating the past into a fresh data directory (``--days`` × ``--per-day``, seed 15,
the end pinned through ``history.partial.json``, ``--jobs`` workers, the default chunk). "before" runs the code of
``--before-tree`` (a git worktree of the base commit, e.g. ``git worktree add /tmp/gg/B/base c49b535``): its
packages' source directories go first on ``PYTHONPATH``, so the same interpreter and libraries run the old code.
"after" runs the tree this file is in, the same way. The variants alternate (before, after, before, after …) on
the same machine moment.

Per run: wall seconds, CPU seconds of the process and its workers (user + system), bytes the kernel wrote for them
(``ru_oublock``: the data directory's files, WAL and checkpoints), the marker's seconds per part, the row counts
and (unless ``--no-digest``) the digest of every row written (tests/cli/test_history_digest.py), which must be the
same for both variants. Load average at start and end.

Run:  uv run --frozen python bench/history_generate.py --before-tree /tmp/gg/B/base [--days 6] [--runs 3]
      [--jobs 2] [--no-digest] [--save]
Results: bench/results/history_generate.json (earlier runs kept under "previous").
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
RUN_TIMEOUT_S = 1800


def child(data_dir: Path, days: int, per_day: int, jobs: int, with_digest: bool) -> None:
    """Generate the past in this process (whichever code ``PYTHONPATH`` gives) and print the marker and digest."""
    sys.path.insert(0, str(ROOT / "tests" / "cli"))
    from test_history_digest import WRITTEN, digest  # type: ignore[import-not-found]

    from gridgov_cli.history import run

    data_dir.mkdir(parents=True)
    (data_dir / run.PARTIAL).write_text(json.dumps({"days": days, "per_day": per_day, "seed": 15, "now": END}))
    result = run.generate(data_dir, days=days, per_day=per_day, seed=15, show=False, jobs=jobs)
    if with_digest:
        counts, sha = digest(data_dir)
    else:
        import sqlite3

        counts, sha = {}, None
        for db, tables in WRITTEN.items():
            conn = sqlite3.connect(data_dir / f"{db}.db")
            for table in tables:
                counts[f"{db}.{table}"] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            conn.close()
    size = sum(f.stat().st_size for f in data_dir.iterdir() if f.is_file())
    print(json.dumps({"seconds": result["seconds"], "cases": result["cases"], "jobs": result["jobs"], "rows": counts,
                      "digest": sha, "data_dir_bytes": size, "module": run.__file__}))


def source_path(tree: Path) -> str:
    """The tree's packages' source directories, for ``PYTHONPATH``."""
    dirs = [tree / "cli" / "src", *sorted(tree.glob("libs/*/src")), *sorted(tree.glob("services/*/src"))]
    return os.pathsep.join(str(d) for d in dirs)


def _usage() -> tuple[float, float, int]:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime, r.ru_stime, r.ru_oublock


def one_run(variant: str, args: argparse.Namespace) -> dict:
    """One fresh process of a variant; its figures."""
    env = {**os.environ, "GRIDGOV_LOG_LEVEL": "WARNING"}
    # Each variant's packages first on the path: the base tree's, or the tree this file is in (which need not be
    # the one the environment's editable installs point at, e.g. a worktree of a commit).
    env["PYTHONPATH"] = source_path(Path(args.before_tree) if variant == "before" else ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="history_bench_", dir=args.tmp))
    try:
        u0, s0, o0 = _usage()
        w0 = time.perf_counter()
        cmd = [sys.executable, __file__, "--child", "--dir", str(tmp / "var"), "--days", str(args.days),
               "--per-day", str(args.per_day), "--jobs", str(args.jobs), *(["--no-digest"] if args.no_digest else [])]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env, cwd=ROOT)
        wall = time.perf_counter() - w0
        u1, s1, o1 = _usage()
        if out.returncode != 0:
            raise RuntimeError(f"{variant} failed:\n{out.stderr[-3000:]}")
        got = json.loads(out.stdout.strip().splitlines()[-1])
        got.update(variant=variant, wall_s=round(wall, 2), cpu_s=round(u1 - u0 + s1 - s0, 2),
                   user_s=round(u1 - u0, 2), sys_s=round(s1 - s0, 2), written_bytes=(o1 - o0) * 512,
                   load=Path("/proc/loadavg").read_text().strip())
        return got
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    """Run the variants interleaved; print (and with ``--save`` record) each run and the medians."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before-tree", help="a git worktree of the base commit (required unless --child)")
    ap.add_argument("--days", type=int, default=6)
    ap.add_argument("--per-day", type=int, default=2400)
    ap.add_argument("--runs", type=int, default=3, help="rounds of (before, after)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-digest", action="store_true", help="row counts only (a full history's digest takes long)")
    ap.add_argument("--tmp", default=None, help="where the data directories go (default: the system's temp)")
    ap.add_argument("--label", default="interleaved")
    ap.add_argument("--after-first", action="store_true", help="each round runs after, then before")
    ap.add_argument("--save", action="store_true")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--dir")
    args = ap.parse_args()
    if args.child:
        child(Path(args.dir), args.days, args.per_day, args.jobs, not args.no_digest)
        return 0
    if not args.before_tree:
        ap.error("--before-tree is required")
    load_before = Path("/proc/loadavg").read_text().strip()
    samples: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(max(1, min(args.runs, 10))):
        for variant in ("after", "before") if args.after_first else ("before", "after"):
            got = one_run(variant, args)
            print(json.dumps({k: got[k] for k in ("variant", "wall_s", "cpu_s", "written_bytes", "seconds", "load")}),
                  flush=True)
            samples[variant].append(got)
    rows = {json.dumps(s["rows"], sort_keys=True) for v in samples.values() for s in v}
    digests = {s["digest"] for v in samples.values() for s in v}
    same = len(rows) == 1 and len(digests) == 1

    def med(runs: list[dict], key: str) -> float:
        return round(statistics.median(r[key] for r in runs), 2)

    def med_part(runs: list[dict], part: str) -> float | None:
        values = [r["seconds"][part] for r in runs if part in r["seconds"]]
        return round(statistics.median(values), 2) if values else None

    parts = ("prepare", "plan", "load", "plan_summed", "dispatch_summed", "intake_summed", "analytics_summed",
             "total")
    medians = {v: {"wall_s": med(runs, "wall_s"), "cpu_s": med(runs, "cpu_s"), "user_s": med(runs, "user_s"),
                   "sys_s": med(runs, "sys_s"), "written_gb": round(med(runs, "written_bytes") / 1e9, 2),
                   "seconds": {p: med_part(runs, p) for p in parts}} for v, runs in samples.items()}
    result = {
        "label": args.label,
        "command": " ".join(["uv run --frozen python bench/history_generate.py", *sys.argv[1:]]),
        "days": args.days, "per_day": args.per_day, "jobs": args.jobs, "cases": samples["after"][0]["cases"],
        "rows": samples["after"][0]["rows"], "same_rows_both_variants": same,
        "digest": samples["after"][0]["digest"],
        "load_before": load_before, "load_after": Path("/proc/loadavg").read_text().strip(),
        "medians": medians, "runs": samples,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    if args.save:
        path = ROOT / "bench" / "results" / "history_generate.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        earlier = {k: v for k, v in data.items() if k != "previous"}
        data = {"what": "gridgov history generate (seed 15, end pinned), base tree vs this tree, interleaved",
                "runs": [result], "previous": [*data.get("previous", []), *([earlier] if earlier else [])]}
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    if not same:
        print(f"the variants wrote different rows: {rows} {digests}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
