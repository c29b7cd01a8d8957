"""Micro-benchmark (#18): CPU ms per ticket event through analytics' cube consumer, on SQLite, before and after.

In the loop each report becomes a ticket that dispatch registers and dispatches: two ticket events, which the
``analytics.cube-<generation>`` group projects into the read model. This feeds N ticket events (registered then
dispatched, for N/2 tickets, interleaved as the bus hands them over) through the real batch handler
(``consumers.cube_spec``) in polled batches (default 200), on a fresh database made by the service's migrations.
A first batch warms the imports and statement caches and is not counted. CPU is the process's
(``time.process_time``) around the handler calls only.

``--before-tree DIR`` measures the code of another work tree too (e.g. ``git worktree add /tmp/base <commit>``):
each round runs this script in a child process under that tree's environment (``uv run`` in DIR) and under this
one, interleaved (before, after, before, after …), so both see the same machine load; medians of the rounds.

Run:  uv run --frozen python bench/loop_analytics.py [--events 4000] [--batch 200] [--rounds 5]
      [--before-tree DIR] [--out F]
Results: bench/results/loop_analytics.json (earlier runs kept under "previous").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "loop_analytics.json"


def envelopes(n: int) -> list:
    """N ticket events: each ticket registered, then dispatched (dispatch publishes the two together)."""
    from gridgov_common.bus.envelope import new_envelope
    from gridgov_common.events.tickets import TicketEvent

    now = datetime.now(UTC)
    out = []
    for _ in range(n // 2):
        ticket_id = str(uuid.uuid4())
        for action, from_state, to_state in (("register", None, "registered"), ("dispatch", "registered",
                                                                                 "dispatched")):
            event = TicketEvent(ticket_id=ticket_id, report_id=ticket_id, action=action, from_state=from_state,
                                to_state=to_state, category_code="01002", department="water",
                                grid_code="441900001001001", village_code="441900001001", town_code="441900001",
                                reporter_id="bench", deadline=now + timedelta(hours=24), actor_id="rules",
                                actor_role="system", occurred_at=now, channel="patrol")
            out.append(new_envelope(type=f"ticket.{'registered' if action == 'register' else 'dispatched'}",
                                    producer="dispatch", key=ticket_id, payload=event, correlation_id=ticket_id))
    return out


def child(events: int, batch: int) -> dict:
    """One measurement in this process (whatever tree's code ``uv run`` put on the path)."""
    import logging

    from sqlalchemy import func, select

    from gridgov_analytics.consumers import cube_spec
    from gridgov_analytics.cube.models import DailyCount, TicketFact
    from gridgov_analytics.tables import metadata
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head

    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'analytics.db'}", metadata, "analytics-bench")
        upgrade_to_head(db, "gridgov_analytics")
        handle = cube_spec(db, 1).handler
        handle(envelopes(batch))  # warm-up
        msgs = envelopes(events)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(0, len(msgs), batch):
            handle(msgs[i:i + batch])
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        with db.engine.connect() as conn:
            facts = conn.execute(select(func.count()).select_from(TicketFact)).scalar_one()
            registered = conn.execute(select(func.sum(DailyCount.n)).where(DailyCount.measure == "registered")
                                      ).scalar_one()
        db.engine.dispose()
    expected = (events + batch) // 2
    if facts != expected or registered != expected:
        raise AssertionError(f"{facts} facts and {registered} registered, expected {expected} of each")
    return {"events": len(msgs), "cpu_ms_per_event": round(1000 * cpu / len(msgs), 4),
            "wall_ms_per_event": round(1000 * wall / len(msgs), 4), "facts": facts}


def measure_in(tree: Path, events: int, batch: int) -> dict:
    """One measurement of ``tree``'s code, in a child process under that tree's environment."""
    out = subprocess.run(["uv", "run", "--frozen", "python", str(Path(__file__).resolve()), "--child",
                          "--events", str(events), "--batch", str(batch)], cwd=tree, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def git_head(tree: Path) -> str:
    """The short commit of a work tree (and '+changes' when it has uncommitted ones)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "services/analytics", "libs/common"], cwd=tree,
                           capture_output=True, text=True).stdout.strip()
    return head + ("+changes" if dirty else "")


def main() -> None:
    """Interleaved rounds of this tree (and ``--before-tree``), medians saved."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before-tree", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.events, args.batch)))
        return
    trees = {"after": ROOT} if args.before_tree is None else {"before": args.before_tree, "after": ROOT}
    load_start = Path("/proc/loadavg").read_text().split()[:3]
    rounds: dict[str, list[dict]] = {label: [] for label in trees}
    for r in range(args.rounds):
        for label, tree in trees.items():
            rounds[label].append(measure_in(tree, args.events, args.batch))
            print(f"round {r + 1} {label}: {rounds[label][-1]}", flush=True)
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": sys.version.split()[0],
              "events": args.events, "batch": args.batch, "rounds": args.rounds,
              "loadavg_start": " ".join(load_start),
              "loadavg_end": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
              "trees": {label: git_head(tree) for label, tree in trees.items()},
              "median_cpu_ms_per_event": {label: statistics.median(x["cpu_ms_per_event"] for x in runs)
                                          for label, runs in rounds.items()},
              "median_wall_ms_per_event": {label: statistics.median(x["wall_ms_per_event"] for x in runs)
                                           for label, runs in rounds.items()},
              "runs": rounds}
    if "before" in rounds:
        med = result["median_cpu_ms_per_event"]
        result["cpu_ratio_after_to_before"] = round(med["after"] / med["before"], 3)
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    previous = []
    if args.out.exists():
        old = json.loads(args.out.read_text())
        previous = [*old.pop("previous", []), old]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**result, "previous": previous}, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
