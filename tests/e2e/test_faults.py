"""Faults while reports flow: every accepted report becomes exactly one ticket and one department notice.

The kill-and-restart tests and the two-instance test share one stack of each kind (``whole_stack``): each leaves
it whole and checks only the reports it filed, so the stack start is paid once per kind. The redelivery test starts
its own. Stops of the shared Kafka and PostgreSQL are in test_server_faults.py: no kept stack is running then.
"""

import pytest

from gridgov_cli.stack import SERVICES
from tests.support.flow import ReportFlow, assert_each_report_one_ticket_and_one_notice
from tests.support.stack import BUS_SERVICES, Stack

# The services a report passes through on its way to a ticket and a notice (what the fault tests check); analytics
# only reads the ticket events (its read model on both stacks: tests/analytics/test_read_model_stacks.py), and
# sensing only adds reports of its own (its alarms on both stacks: tests/e2e/test_sensing.py).
LOOP_SERVICES = [name for name in SERVICES if name not in ("analytics", "sensing")]


def test_redelivering_every_message_changes_nothing(stack):
    flow = ReportFlow(stack)
    flow.start()
    flow.wait_accepted(30)
    accepted = flow.stop()
    before = assert_each_report_one_ticket_and_one_notice(stack, accepted)
    stack.stop()
    reset_consumer_offsets(stack)  # every consumer group starts again from offset 0
    stack.start()
    stack.wait_for("consumers to re-read every topic", lambda: consumers_caught_up(stack), timeout=120)
    after = assert_each_report_one_ticket_and_one_notice(stack, accepted)
    assert after == before


def test_two_dispatch_instances_share_partitions_and_handle_each_ticket_once(whole_stack):
    stack = whole_stack
    second = stack.start_extra("dispatch")
    try:
        stack.wait_for("both dispatch instances to own partitions",
                       lambda: all(assigned_partitions(url) > 0 for url in (stack.url("dispatch"), second)),
                       timeout=60)
        flow = ReportFlow(stack)
        flow.start()
        flow.wait_accepted(60)
        accepted = flow.stop()
        assert_each_report_one_ticket_and_one_notice(stack, accepted)
    finally:
        stack.stop_extra()


def test_sigkill_whole_stack_mid_stream_loses_and_doubles_nothing(whole_stack):
    stack = whole_stack
    flow = ReportFlow(stack)
    flow.start()
    flow.wait_accepted(40)
    stack.kill()  # SIGKILL all four processes while reports are in flight
    stack.start()
    accepted_before = len(flow.accepted)
    flow.wait_accepted(accepted_before + 20)
    accepted = flow.stop()
    result = assert_each_report_one_ticket_and_one_notice(stack, accepted)
    assert result["tickets"] == len(accepted)


@pytest.mark.parametrize("service", LOOP_SERVICES)
def test_sigkill_one_service_mid_stream_and_restart(whole_stack, service):
    stack = whole_stack
    flow = ReportFlow(stack)
    flow.start()
    flow.wait_accepted(30)
    stack.kill([service])
    stack.start([service])
    flow.wait_accepted(len(flow.accepted) + 20)
    accepted = flow.stop()
    assert_each_report_one_ticket_and_one_notice(stack, accepted)


def assigned_partitions(base_url: str) -> int:
    import httpx

    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith("gridgov_consumer_assigned_partitions "):
            return int(float(line.split()[1]))
    return 0


def reset_consumer_offsets(stack: Stack) -> None:
    if stack.kind == "embedded":
        import sqlite3

        with sqlite3.connect(stack.data_dir / "bus.db") as conn:
            conn.execute("DELETE FROM group_offsets")
        return
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=stack.env["GRIDGOV_KAFKA_BOOTSTRAP_SERVERS"])
    try:
        ns = stack.env["GRIDGOV_TOPIC_NAMESPACE"]
        groups = [g["group_id"] for g in admin.list_groups()]
        admin.delete_groups([g for g in groups if g.startswith(ns)])
    finally:
        admin.close()


def consumers_caught_up(stack: Stack) -> bool:
    """Whether every service's consumer group has committed up to the end of its topics again."""
    import httpx

    for name in BUS_SERVICES:
        metrics = {}
        for line in httpx.get(f"{stack.url(name)}/metrics", timeout=5).text.splitlines():
            if line.startswith("gridgov_consumer_"):
                key, value = line.split()
                metrics[key] = float(value)
        if metrics.get("gridgov_consumer_assigned_partitions", 0) == 0 or metrics.get("gridgov_consumer_lag", 1):
            return False
    return True
