"""The event catalog has one owner: a version dispatch publishes reaches intake and notification over the bus, on
each stack."""

import httpx

from gridgov_cli.demo import DEMO_POINT
from tests.support.flow import inbox_all

NEW_CODE = "01010"  # a middle class under 01 (city appearance): routed by the seeded class rule of 01
NEW_NAME = "共享单车乱停放"
NEW_ROW = f"{NEW_CODE},middle,01,共享单车乱停放,Shared bikes parked in disorder,,公共区域共享单车乱停放,已清理,,,,,,,\n"


def post_report(stack, category):
    return httpx.post(f"{stack.urls.intake}/v1/reports/patrol", headers=stack.auth(sub="gw-1", role="grid_worker"),
                      json={"category_code": category, "description": "e2e catalog", "lon": DEMO_POINT[0],
                            "lat": DEMO_POINT[1]})


def test_report_with_code_published_in_dispatch_is_accepted_by_intake_and_dispatched(stack):
    refused = post_report(stack, NEW_CODE)
    assert refused.status_code == 422, refused.text  # not in the catalog in effect yet
    admin = stack.auth(sub="admin-1", role="admin")
    text = httpx.get(f"{stack.urls.dispatch}/v1/catalog/export.csv", headers=admin).text + NEW_ROW
    published = httpx.post(f"{stack.urls.dispatch}/v1/catalog/import", content=text.encode(),
                           headers={**admin, "Content-Type": "text/csv"})
    assert published.status_code == 201, published.text
    assert published.json()["added"] == [NEW_CODE]

    def accepted():
        resp = post_report(stack, NEW_CODE)
        assert resp.status_code in (202, 422), resp.text  # 422 until intake has learned the version
        return resp.json()["report_id"] if resp.status_code == 202 else None

    # Generous waits: the announcement and then the report cross the bus and three services (Kafka on a busy CI).
    report_id = stack.wait_for("intake to accept the newly published code", accepted, timeout=120)
    services = httpx.get(f"{stack.urls.intake}/open311/v2/services.json").json()
    assert NEW_CODE in {s["service_code"] for s in services}

    def dispatched():
        resp = httpx.get(f"{stack.urls.dispatch}/v1/tickets", params={"report_id": report_id},
                         headers=stack.auth(sub="cc", role="command_centre"))
        items = resp.json()["items"] if resp.status_code == 200 else []
        return items[0] if items and items[0]["state"] == "dispatched" else None

    ticket = stack.wait_for("the new code's ticket to be dispatched", dispatched, timeout=120)
    assert ticket["category_code"] == NEW_CODE and ticket["department"]

    def noticed():
        return [m for m in inbox_all(stack, sub="dd-cat", role="dept_dispatcher", department=ticket["department"])
                if m["ticket_id"] == ticket["id"] and m["event_type"] == "ticket.dispatched"] or None

    # notification learned the version too: its message names the new code rather than showing it bare.
    [notice] = stack.wait_for("the department's notice of the new code's ticket", noticed, timeout=120)
    assert notice["title"] == f"新工单待签收：{NEW_NAME}（{NEW_CODE}）", notice
    if stack.kind == "distributed":
        assert catalog_topic_cleanup_policy(stack) == "compact"


def catalog_topic_cleanup_policy(stack) -> str:
    """The ``cleanup.policy`` of this run's catalog topic on the broker."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    topic = stack.env["GRIDGOV_TOPIC_NAMESPACE"] + "gridgov.catalog.published"
    admin = KafkaAdminClient(bootstrap_servers=stack.env["GRIDGOV_KAFKA_BOOTSTRAP_SERVERS"])
    try:
        # kafka-python answers the configs set on the topic: {"topic": {name: {config: {"value": ...}}}}
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])["topic"][topic]
        return described.get("cleanup.policy", {}).get("value", "delete")
    finally:
        admin.close()
