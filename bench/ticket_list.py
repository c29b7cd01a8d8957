"""Benchmark: the command centre's 工单列表 read by dispatch — one page of 50 per filter, search and order.

``GET /v1/tickets`` without HTTP (``tickets.service.list_page`` in the command centre's scope, the total counted as
the route counts it) on a dispatch database with a city's past, e.g. a copy of the demo's (the first
``gridgov up`` writes 90 days: ~210,000 tickets). Copy it first, so a running stack is not read while it writes:
``python -c "import sqlite3; s = sqlite3.connect('file:DIR/dispatch.db?mode=ro', uri=True); d = sqlite3.connect(
'/tmp/dispatch-copy.db'); s.backup(d)"``. One JSON document: the median and the slowest of ``--runs`` reads of
each case, in milliseconds.

Run:  uv run --frozen python bench/ticket_list.py --db sqlite:////tmp/dispatch-copy.db [--runs 5]
      [--out bench/results/ticket_list.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from gridgov_common.db import Database
from gridgov_common.periods import parse_period
from gridgov_dispatch import tables
from gridgov_dispatch.tickets import models as _models  # noqa: F401 - registers the tables
from gridgov_dispatch.tickets import service
from gridgov_dispatch.tickets.access import ListScope

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ticket_list.json"


def cases(department: str, month: str) -> list[tuple[str, dict]]:
    """What the list is asked: the console's defaults, a far page, each filter, the searches."""
    return [
        ("every ticket, newest first, page 1", {"order": "newest"}),
        ("every ticket, newest first, page 100", {"order": "newest", "offset": 4950}),
        ("every ticket, oldest first, page 1", {"order": "oldest"}),
        ("every ticket by deadline", {"order": "deadline"}),
        ("open tickets by deadline (在办)", {"order": "deadline", "open_tickets": True}),
        ("overdue by deadline (超期)", {"order": "deadline", "overdue": True}),
        (f"one department ({department}), newest first", {"order": "newest", "department": department}),
        (f"one department ({department}), open, by deadline",
         {"order": "deadline", "department": department, "open_tickets": True}),
        ("12345热线 · class 05 · one week", {"order": "newest", "channel": "hotline", "category": "05",
                                            "created": parse_period(f"{month}-23..{month}-29", "created")}),
        ("class 05, newest first", {"order": "newest", "category": "05"}),
        (f"registered in {month}", {"order": "newest", "created": parse_period(month, "created")}),
        ("物联感知 (a rare channel)", {"order": "newest", "channel": "iot"}),
        ("search: a ticket number found nowhere", {"order": "newest", "search": "c9a8b1f2"}),
        ("search: 井盖 in descriptions", {"order": "newest", "search": "井盖"}),
        ("search: 井盖, open, by deadline", {"order": "deadline", "search": "井盖", "open_tickets": True}),
    ]


def main() -> None:
    """Read each case ``--runs`` times; print and save the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a dispatch database URL (a copy: this bench only reads)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--department", default="urban-management")
    parser.add_argument("--month", default="2026-11", help="YYYY-MM within the database's past")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    db = Database(args.db, tables.metadata, "dispatch")
    scope = ListScope()  # the command centre's: the whole city
    out = {"what": __doc__.split("\n\n")[0], "when": datetime.now(UTC).isoformat(timespec="seconds"),
           "machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
           "backend": db.engine.dialect.name, "runs": args.runs, "load_before": os.getloadavg(), "cases": {}}
    for name, kwargs in cases(args.department, args.month):
        times, total = [], 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            with db.session() as session:
                _rows, total = service.list_page(session, scope, limit=50, **kwargs)
            times.append((time.perf_counter() - t0) * 1000)
        out["cases"][name] = {"total": total, "median_ms": round(statistics.median(times), 1),
                              "max_ms": round(max(times), 1)}
        print(f"{name:52s} {total:8,d}  median {statistics.median(times):7.1f} ms  max {max(times):7.1f}", flush=True)
    out["load_after"] = os.getloadavg()
    db.engine.dispose()
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
