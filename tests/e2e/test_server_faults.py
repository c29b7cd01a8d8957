"""Stops of the shared Kafka and PostgreSQL while reports flow, on the distributed stack.

Apart from test_faults.py, whose kept stacks would otherwise be running (and reconnecting) while a server is down.
"""

import os
import subprocess

import pytest

from tests.support.flow import ReportFlow, assert_each_report_one_ticket_and_one_notice
from tests.support.stack import BUS_SERVICES


@pytest.mark.distributed
@pytest.mark.parametrize(("server", "check"), [("kafka", "bus"), ("postgres", "database")])
def test_server_down_mid_stream_shows_in_readyz_and_loses_nothing(real_stack, server, check):
    """Kafka (or PostgreSQL) stops while reports flow: every service's /readyz says so while it is down, and once
    it is back every report accepted before, during and after is one ticket with one notice."""
    import httpx

    script = f"deploy/local/{server}.sh"

    def readiness():
        return {name: httpx.get(f"{real_stack.url(name)}/readyz", timeout=10) for name in BUS_SERVICES}

    # 0.2 s between posts (~20 reports/s): a Kafka stop and start takes 40-60 s here, and intake keeps accepting
    # into its outbox meanwhile; at 0.02 s that was 3,100 reports and 75 s for dispatch to work through them
    # afterwards, for no more evidence than a backlog of hundreds gives.
    flow = ReportFlow(real_stack, pause=0.2)
    flow.start()
    flow.wait_accepted(30)
    subprocess.run([script, "stop"], check=True, capture_output=True, timeout=120)
    try:
        down = real_stack.wait_for(f"/readyz to report {server} down", lambda: (
            r := readiness()) and all(x.status_code == 503 and x.json()["checks"][check] is False
                                      for x in r.values()) and r, timeout=60)
        assert all(x.json()["status"] == "not_ready" for x in down.values())
    finally:
        # The shared broker holds every test run's namespaced topics, so a start on a busy machine may need more
        # than the script's default 90 s to answer; its own output is kept for the failure message.
        subprocess.run([script, "start"], check=True, capture_output=True, timeout=180)
        done = subprocess.run([script, "wait"], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "KAFKA_READY_TIMEOUT": "240"})
        assert done.returncode == 0, f"{server}.sh wait exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    real_stack.wait_for("/readyz to recover", lambda: all(x.status_code == 200 for x in readiness().values()),
                        timeout=90)
    flow.wait_accepted(len(flow.accepted) + 20, timeout=120)
    accepted = flow.stop()
    assert_each_report_one_ticket_and_one_notice(real_stack, accepted, timeout=180)
