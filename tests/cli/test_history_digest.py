"""What ``gridgov history generate`` writes is pinned: a small past (8 days of 120 reports, seed 15, the moment the
past ends fixed through ``history.partial.json``) gives these row counts and this digest of every row it writes
(dispatch's tickets, audit rows and ratings, intake's reports, analytics' facts and daily counts), in one worker
or two. A change that makes the history faster must leave the digest as it is; a change of what the history
contains changes it on purpose (and says so)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gridgov_cli.history import run

DAYS, PER_DAY, SEED = 8, 120, 15
END = "2026-11-20T06:30:00+00:00"  # a Friday, 14:30 in Dongguan
WRITTEN = {"dispatch": ("ticket", "ticket_transition", "ticket_rating"), "event-intake": ("report",),
           "analytics": ("ticket_fact", "daily_count")}
EXPECTED_ROWS = {
    "dispatch.ticket": 1795, "dispatch.ticket_transition": 10649, "dispatch.ticket_rating": 344,
    "event-intake.report": 1826, "analytics.ticket_fact": 1795, "analytics.daily_count": 3843,
}
# taken from the code of 2026-12-03 before the history speed work (commit 735437e); changed on 2026-12-05 when
# reports and tickets got time-ordered ids (UUIDv7, history/plan.py's stable_id) instead of uuid5: every row was
# compared with the one before, each id mapped to its new one, and nothing else differed; changed again on
# 2026-12-07 when the grid workers of the past became the roster's own (``gw-<grid>-<n>``, the grid's workers by
# turns, instead of one ``gw-<grid>`` per grid): every table compared row by row with the one before, and only the
# grid workers' ids differ (ticket and report reporter_id of patrol reports, ticket_rating reporter_id, the audit
# rows' actor_id of checks and closes, the 自行处置 note naming the worker); analytics' rows are identical; changed
# again later on 2026-12-07 when the audit rows got ``actor_name``: the digest of every other column is the one
# before (9a3095a5…), and the name is set on the 3,222 department dispatchers' rows (13 names, one per
# department) and the command centre's 134 rulings (one name), never on the system's or the grid workers' (their
# names are the roster's).
EXPECTED_DIGEST = "4001e4f1917f15ad17b3fbac08ae014282ed34db4948b36b9e87832fa464fea6"


def digest(data_dir: Path) -> tuple[dict[str, int], str]:
    """Row counts per table and one sha256 over every row of the tables the history writes (rows sorted)."""
    counts: dict[str, int] = {}
    h = hashlib.sha256()
    for db, tables in WRITTEN.items():
        conn = sqlite3.connect(data_dir / f"{db}.db")
        try:
            for table in tables:
                columns = sorted(r[1] for r in conn.execute(f'PRAGMA table_info("{table}")'))
                rows = sorted(repr(r) for r in conn.execute(
                    f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{table}"'))
                counts[f"{db}.{table}"] = len(rows)
                h.update(f"{db}.{table}:{','.join(columns)}\n".encode())
                for row in rows:
                    h.update(row.encode() + b"\n")
        finally:
            conn.close()
    return counts, h.hexdigest()


# Run in a fresh interpreter: ``generate`` forks its workers, and a pytest worker may still hold other test files'
# in-process services (their consumers poll SQLite every few milliseconds); a fork taken while one of those threads
# holds SQLite's process-wide mutex leaves the child waiting on it for ever (seen once in a CI dry run, 2026-12-05:
# the two-worker case hung in ``sqlite3.connect`` in a forked worker). ``gridgov up`` and ``gridgov history
# generate`` fork from processes without such threads.
_CHILD = """
import json, sys
from pathlib import Path
from gridgov_cli.history import run
result = run.generate(Path(sys.argv[1]), days=int(sys.argv[2]), per_day=int(sys.argv[3]), seed=int(sys.argv[4]),
                      show=False, jobs=int(sys.argv[5]), chunk=400)
print(json.dumps(result["generated_at"]))
"""


def _generate(data_dir: Path, jobs: int) -> tuple[dict[str, int], str]:
    data_dir.mkdir(parents=True)
    (data_dir / run.PARTIAL).write_text(json.dumps({"days": DAYS, "per_day": PER_DAY, "seed": SEED, "now": END}))
    out = subprocess.run([sys.executable, "-c", _CHILD, str(data_dir), str(DAYS), str(PER_DAY), str(SEED), str(jobs)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == END
    return digest(data_dir)


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_history_generate_writes_the_pinned_rows(tmp_path, jobs):
    counts, sha = _generate(tmp_path / "var", jobs)
    assert counts == EXPECTED_ROWS
    assert sha == EXPECTED_DIGEST
