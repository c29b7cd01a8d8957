"""Where each service's CPU goes, from the py-spy profiles ``bench/loop_throughput.py --profile DIR`` records.

Each busy sample is put in one bucket by its innermost Python frame (a C call — SQLite's execute, a socket
write — counts to the Python frame that made it): the database driver's execute, the rest of SQLAlchemy, the
HTTP stack (uvicorn, h11/httptools, starlette, FastAPI, anyio), uvloop's C event loop, pydantic, the bus
(gridgov_common.bus, the Kafka client), JSON, logging, shapely and numpy, gridgov's own code, and the rest; samples
parked in a wait (a lock, a queue, a selector, psycopg waiting for the server) are left out. With the benchmark's
results (``--results``), each share is also given as CPU ms per report (the service's CPU ms per report in the
same run's burst × the share): what a report costs in that part of that service.

Run:  uv run --frozen python bench/profile_summary.py DIR/embedded [--results bench/results/loop_throughput.json
      --stack embedded] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

# (bucket, pattern on the innermost frame's file), first match wins.
BUCKETS = (
    ("database driver (execute, commit)", re.compile(r"sqlalchemy/engine/default\.py|(^|/)sqlite3/|psycopg")),
    ("SQLAlchemy (statements, results, ORM)", re.compile(r"(^|/)(sqlalchemy|sqlmodel)/")),
    ("HTTP stack (uvicorn, starlette, FastAPI)",
     re.compile(r"(^|/)(uvicorn|h11|httptools|starlette|fastapi|anyio)/")),
    ("event loop (uvloop's C loop, its callbacks and waits)", re.compile(r"(^|/)asyncio/runners\.py")),
    ("pydantic (validation, serialisation)", re.compile(r"(^|/)pydantic")),
    ("bus (embedded log, Kafka client, relay)", re.compile(r"gridgov_common/bus/|(^|/)kafka/")),
    ("JSON (orjson, json)", re.compile(r"orjson|(^|/)json/")),
    ("logging", re.compile(r"(^|/)logging/|gridgov_common/logs")),
    ("shapely and numpy (point lookup)", re.compile(r"(^|/)(shapely|numpy)/")),
    ("gridgov's own code", re.compile(r"gridgov_")),
)
OTHER = "standard library and the rest"
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*):(?P<line>\d+)\)$")
# Samples whose innermost frame is a wait — the standard library's, or psycopg's for the server's answer: a thread
# parked, not a core used (py-spy leaves idle threads out by the OS's account of them, which lets these in).
WAIT_FUNCS = frozenset({"wait", "select", "poll", "acquire", "sleep", "get", "_worker"})
WAIT_FILES = re.compile(r"(^|/)(threading|selectors|queue)\.py$|(^|/)concurrent/|psycopg/(connection|waiting)\.py$")


def bucket_of(frame: str) -> str:
    """The bucket of one innermost frame (``func (file:line)``)."""
    match = FRAME.match(frame)
    file = match["file"] if match else frame
    for name, pattern in BUCKETS:
        if pattern.search(file):
            return name
    return OTHER


def summarise(raw: Path) -> tuple[Counter[str], Counter[str], int]:
    """Busy samples per bucket of one py-spy raw (collapsed) profile, per gridgov function (inclusive: the
    samples with that function anywhere on the stack), and their total."""
    counts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")
        match = FRAME.match(frames[-1])
        if match and match["func"].rsplit(".", 1)[-1] in WAIT_FUNCS and WAIT_FILES.search(match["file"]):
            continue
        counts[bucket_of(frames[-1])] += int(n)
        for name in {_ours(f) for f in frames} - {None}:
            inclusive[name] += int(n)
    return counts, inclusive, sum(counts.values())


def _ours(frame: str) -> str | None:
    """``function (package/module.py)`` of a gridgov frame, else None."""
    match = FRAME.match(frame)
    if not match or "gridgov_" not in match["file"]:
        return None
    return f"{match['func']} ({match['file'].rsplit('gridgov_', 1)[-1]})"


def main() -> None:
    """Print (and optionally write) the buckets of every profile in the directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiles", type=Path, help="a directory of py-spy raw profiles, one <service>.txt each")
    parser.add_argument("--results", type=Path, help="loop_throughput.py's results of the same run")
    parser.add_argument("--stack", default="embedded")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    cpu_ms: dict[str, float] = {}
    if args.results:
        cpu_ms = json.loads(args.results.read_text())["stacks"][args.stack]["throughput"]["cpu_ms_per_report"]
    lines = []
    for raw in sorted(args.profiles.glob("*.txt")):
        service = raw.stem
        counts, inclusive, total = summarise(raw)
        if not total:
            continue
        per_report = cpu_ms.get(service)
        head = f"{service}: {total} busy samples" + (f", {per_report} CPU ms per report" if per_report else "")
        lines.append(head)
        for name, n in counts.most_common():
            share = n / total
            ms = f"  {per_report * share:5.2f} ms" if per_report else ""
            lines.append(f"  {share * 100:5.1f} %{ms}  {name}")
        lines.append("  gridgov's functions, inclusive (with what they call), the top 15:")
        for name, n in inclusive.most_common(15):
            lines.append(f"  {n / total * 100:5.1f} %  {name}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
