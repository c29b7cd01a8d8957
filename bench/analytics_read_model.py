"""How fast analytics' read model follows the bus: ticket lifecycles published as dispatch and notification publish
them, timed until the cube counts every one, then a rebuild from the bus timed the same way; on the embedded stack
(log + SQLite) and, with GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS and GRIDGOV_TEST_PG_ADMIN_URL set, on Kafka +
PostgreSQL. The analytics app runs in this process (its consumers and generation watcher), as in
tests/analytics/test_read_model_stacks.py, whose lifecycles it reuses.

    uv run --frozen python bench/analytics_read_model.py [--tickets 2500]

Results: bench/results/analytics_read_model.json. The loop it must keep up with makes ~2 ticket events per report
at 127–213 reports/s (bench/results/loop_throughput.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository's test helpers (conftest, services.*.tests, tests.*)

from conftest import TEST_SECRET  # noqa: E402
from gridgov_analytics.app import create_app  # noqa: E402
from gridgov_analytics.settings import AnalyticsSettings  # noqa: E402
from gridgov_common.settings import CommonSettings  # noqa: E402
from services.analytics.tests.support import bearer, publish  # noqa: E402
from tests.analytics import test_read_model_stacks as lifecycles  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "analytics_read_model.json"
WAIT_S = 600.0


def _totals(client) -> dict:
    return client.get("/v1/admin/cube", headers=bearer("admin")).json()


def _wait(client, expect: dict, generation: int | None = None) -> float:
    """Seconds until the cube's bus totals equal ``expect`` (and its generation is ``generation``)."""
    started = time.monotonic()
    while time.monotonic() - started < WAIT_S:
        status = _totals(client)
        if status["bus"] == expect and (generation is None or status["generation"] == generation):
            return time.monotonic() - started
        time.sleep(0.05)
    raise TimeoutError(f"the cube did not reach {expect} in {WAIT_S:.0f} s: {_totals(client)}")


def run(stack: str, tickets: int) -> dict:
    """Publish ``tickets`` lifecycles on one stack and time the projection and a rebuild."""
    lifecycles.TICKETS = tickets
    messages = [m for i in range(tickets) for m in lifecycles.lifecycle(i)]
    expect = lifecycles.expected_bus_totals()
    common = dict(data_dir=Path(tempfile.mkdtemp(prefix=f"bench-analytics-{stack}-")), jwt_secret=TEST_SECRET,
                  log_json=False)
    settings: dict = {"generation_poll_s": 0.2}
    admin = database = None
    if stack == "distributed":
        import psycopg
        from sqlalchemy import make_url

        admin = os.environ["GRIDGOV_TEST_PG_ADMIN_URL"]
        database = f"gg_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}" OWNER gridgov')
        settings["database_url"] = make_url(admin).set(
            drivername="postgresql+psycopg", username="gridgov", password="gridgov",
            database=database).render_as_string(hide_password=False)
        common |= dict(kafka_bootstrap_servers=os.environ["GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS"],
                       topic_namespace=f"b{uuid.uuid4().hex[:10]}.")
    try:
        with TestClient(create_app(AnalyticsSettings(common=CommonSettings(**common), **settings))) as client:
            bus = client.app.state.runtime.bus
            started = time.monotonic()
            for i in range(0, len(messages), 1000):
                publish(bus, *messages[i:i + 1000])
            published_s = time.monotonic() - started
            projected_s = published_s + _wait(client, expect)
            generation = _totals(client)["generation"]
            client.post("/v1/admin/rebuild", headers=bearer("admin"))
            rebuilt_s = _wait(client, expect, generation + 1)
    finally:
        if stack == "distributed":
            from tests.support.stack import drop_namespace

            drop_namespace(common["kafka_bootstrap_servers"], common["topic_namespace"])
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return {"stack": stack, "tickets": tickets, "messages": len(messages), "published_s": round(published_s, 2),
            "published_to_counted_s": round(projected_s, 2),
            "messages_per_s": round(len(messages) / projected_s),
            "rebuild_s": round(rebuilt_s, 2), "rebuild_messages_per_s": round(len(messages) / rebuilt_s)}


def main() -> None:
    """Run the benchmark on each stack available and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2500)
    args = parser.parse_args()
    stacks = ["embedded"]
    if os.environ.get("GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("GRIDGOV_TEST_PG_ADMIN_URL"):
        stacks.append("distributed")
    load_before = os.getloadavg()
    runs = [run(stack, args.tickets) for stack in stacks]
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "python": platform.python_version(), "load_average_before": load_before,
              "load_average_after": os.getloadavg(), "runs": runs}
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
