"""``gridgov history generate`` end to end on SQLite (a small past: 3 days of 120 reports): the services' databases
migrated and seeded by their own code, reports, tickets and the analytics read model loaded in forked workers, the
marker written last; on ``gridgov up`` it runs once per data directory; a run interrupted half-way completes."""

import gc
import json
import subprocess
import sys

from sqlalchemy import create_engine, text

from gridgov_cli.history import run


def _count(db_file, sql: str) -> int:
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_history_generate_loads_every_service_once_and_a_rerun_completes_an_interrupted_one(tmp_path):
    data = tmp_path / "var"
    cli = subprocess.run([sys.executable, "-m", "gridgov_cli.main", "--data-dir", str(data), "history", "generate",
                          "--days", "3", "--per-day", "120", "--jobs", "2"], capture_output=True, text=True,
                         timeout=600)
    assert cli.returncode == 0, cli.stderr
    assert "history:" in cli.stdout and "cases" in cli.stderr  # the result, and the progress bar on stderr
    marker = json.loads((data / run.MARKER).read_text())
    assert not (data / run.PARTIAL).exists()
    cases, rows = marker["cases"], marker["rows"]
    answered = marker["outcomes"].get("answered", 0)
    assert marker["jobs"] == 1 or marker["jobs"] == 2
    assert rows["report"] == cases == _count(data / "event-intake.db", "SELECT count(*) FROM report")
    assert rows["ticket"] == cases - answered == _count(data / "dispatch.db", "SELECT count(*) FROM ticket")
    assert rows["ticket_transition"] == _count(data / "dispatch.db", "SELECT count(*) FROM ticket_transition")
    assert _count(data / "analytics.db", "SELECT count(*) FROM ticket_fact WHERE origin = 'history'") == \
        rows["ticket"]
    assert _count(data / "dispatch.db", "SELECT count(*) FROM outbox") == 0  # nothing for the bus
    assert _count(data / "event-intake.db", "SELECT count(*) FROM outbox") == 0
    open_ = _count(data / "dispatch.db", "SELECT count(*) FROM ticket WHERE state != 'closed'")
    assert 0 < open_ < rows["ticket"]  # the backlog of the last days
    assert "hot_spot" in {p["kind"] for p in marker["planted"]}

    assert run.ensure(data) is None  # generated once per data directory

    # Interrupted: the marker never written, half the rows gone. The same plan is made again and completes.
    (data / run.MARKER).unlink()
    (data / run.PARTIAL).write_text(json.dumps({"days": 3, "per_day": 120, "seed": 15,
                                                "now": marker["generated_at"]}))
    engine = create_engine(f"sqlite:///{data / 'event-intake.db'}")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM report WHERE rowid % 2 = 0"))
    engine.dispose()
    again = run.ensure(data, days=3, per_day=120, show=False, jobs=1)
    assert again is not None and again["cases"] == cases
    # In this process (jobs=1) the load froze the heap and paused automatic collection: both put back after it.
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert _count(data / "event-intake.db", "SELECT count(*) FROM report") == cases
    assert _count(data / "dispatch.db", "SELECT count(*) FROM ticket_transition") == rows["ticket_transition"]
    assert _count(data / "analytics.db", "SELECT count(*) FROM ticket_fact") == rows["ticket"]
