"""Benchmark: the garbage collector's pauses in each service while the loop runs (issue #18's p99).

A collection holds the GIL: while it runs, none of the service's threads moves a report. This starts the embedded
stack from a child process whose ``PYTHONPATH`` starts with a temporary directory holding a ``sitecustomize``: the
services fork from a launcher the child starts, so they inherit its ``gc.callbacks`` hook, which records every
collection's generation, CPU time (``time.thread_time``) and wall time into one file per process. The child posts
reports at a fixed rate, as ``bench/loop_throughput.py``'s latency phase does; per service and generation, the
collections inside that window are counted, with their CPU and their longest pause.

``--before-src DIR`` runs the same against another checkout's ``libs/common/src`` (next on that child's path),
alternating before, after, before, after … for ``--rounds`` rounds.

Run:  uv run --frozen python bench/gc_pauses.py [--before-src /tmp/base/libs/common/src] [--rounds 2] [--save]
Results: bench/results/gc_pauses.json with --save (else printed only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loop_throughput import Timings, fixed_rate, loadavg, settle  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

HOOK = '''
import gc, os, time
_start = [0.0, 0.0]
def _gridgov_bench_gc(phase, info):
    if phase == "start":
        _start[0], _start[1] = time.perf_counter(), time.thread_time()
        return
    wall, cpu = time.perf_counter() - _start[0], time.thread_time() - _start[1]
    with open(os.path.join({out!r}, f"{{os.getpid()}}.log"), "a") as fh:
        fh.write(f"{{time.time():.4f}} {{info['generation']}} {{cpu * 1000:.3f}} {{wall * 1000:.3f}}\\n")
gc.callbacks.append(_gridgov_bench_gc)
'''


def one_run(before_src: str | None, rate: float, seconds: float) -> dict:
    """One fresh stack in a child process: per service and generation, the collections inside the fixed-rate
    window."""
    with tempfile.TemporaryDirectory() as tmp:
        hook_dir, log_dir = Path(tmp) / "hook", Path(tmp) / "gc"
        for folder in (hook_dir, log_dir):
            folder.mkdir()
        (hook_dir / "sitecustomize.py").write_text(HOOK.format(out=str(log_dir)))
        path = [str(hook_dir)] + ([before_src] if before_src else [])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        child = subprocess.run([sys.executable, __file__, "--child", tmp, "--rate", str(rate), "--seconds",
                                str(seconds)], env=env, capture_output=True, text=True, timeout=900)
        if child.returncode:
            raise RuntimeError(f"the measuring child failed:\n{child.stderr[-3000:]}")
        window = json.loads(child.stdout.strip().splitlines()[-1])
        services: dict[str, dict] = {}
        for log in log_dir.glob("*.log"):
            name = window["pids"].get(log.stem)
            if name is None:
                continue  # the launcher, the child itself
            per_gen: dict[str, dict] = {}
            for line in log.read_text().splitlines():
                at, gen, cpu, wall = line.split()
                if not window["t0"] <= float(at) <= window["t1"]:
                    continue
                entry = per_gen.setdefault(f"gen{gen}", {"collections": 0, "cpu_ms": 0.0, "max_cpu_ms": 0.0,
                                                         "max_wall_ms": 0.0})
                entry["collections"] += 1
                entry["cpu_ms"] += float(cpu)
                entry["max_cpu_ms"] = max(entry["max_cpu_ms"], float(cpu))
                entry["max_wall_ms"] = max(entry["max_wall_ms"], float(wall))
            services[name] = {gen: {k: round(v, 1) if isinstance(v, float) else v for k, v in e.items()}
                              for gen, e in sorted(per_gen.items())}
        return {"accepted": window["accepted"], "window_s": round(window["t1"] - window["t0"], 1),
                "loadavg_after": loadavg(), "services": dict(sorted(services.items()))}


def child_window(tmp: str, rate: float, seconds: float) -> dict:
    """In the child: start the stack, settle, post at the fixed rate until every report is dispatched; the
    window's start and end and each service's pid."""
    stack = Stack("embedded", Path(tmp) / "stack", extra_env={"GRIDGOV_LOG_JSON": "true"})
    (Path(tmp) / "stack").mkdir()
    timings = None
    try:
        stack.start()
        timings = Timings.of_stack(stack)
        settle({name: stack.url(name) for name in stack.procs if name != "console"})
        token = stack.mint(sub="bench", role="grid_worker")
        fixed_rate(stack.urls.intake, token, 20, 2)  # warm-up
        t0 = time.time()
        accepted = fixed_rate(stack.urls.intake, token, rate, seconds)
        timings.wait_all_dispatched(t0)
        return {"t0": t0, "t1": time.time(), "accepted": accepted,
                "pids": {str(proc.pid): name for name, proc in stack.procs.items()}}
    finally:
        if timings is not None:
            timings.close()
        stack.close()


def summary(runs: list[dict]) -> dict:
    """Per service: medians over runs of the window's collection CPU (all generations) and of full collections."""
    out: dict[str, dict] = {}
    for name in sorted({n for r in runs for n in r["services"]}):
        per = [r["services"].get(name, {}) for r in runs]
        out[name] = {
            "gc_cpu_ms_in_window": statistics.median(round(sum(g["cpu_ms"] for g in p.values()), 1) for p in per),
            "full_collections": statistics.median(p.get("gen2", {}).get("collections", 0) for p in per),
            "longest_pause_cpu_ms": statistics.median(max((g["max_cpu_ms"] for g in p.values()), default=0)
                                                      for p in per),
        }
    return out


def main() -> None:
    """Run the rounds and print (or save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-src", help="another checkout's libs/common/src, first on the path of every "
                                             "other run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--save", action="store_true", help="write bench/results/gc_pauses.json")
    parser.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_window(args.child, args.rate, args.seconds)))
        return
    trees = ["before", "after"] if args.before_src else ["after"]
    runs: dict[str, list[dict]] = {tree: [] for tree in trees}
    for _ in range(args.rounds):
        for tree in trees:
            run = one_run(args.before_src if tree == "before" else None, args.rate, args.seconds)
            runs[tree].append(run)
            print(f"[{tree}] {json.dumps(summary([run]), ensure_ascii=False)}", flush=True)
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": f"{os.cpu_count()} cores", "rate_per_s": args.rate, "seconds": args.seconds,
               "before_src": args.before_src,
               "medians": {tree: summary(r) for tree, r in runs.items()}, "runs": runs}
    print(json.dumps(results["medians"], indent=1, ensure_ascii=False))
    if args.save:
        out = ROOT / "bench" / "results" / "gc_pauses.json"
        out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        print(f"saved {out}")


if __name__ == "__main__":
    main()
