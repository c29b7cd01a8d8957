"""Contact points: who is reached how (admin only)."""

import pytest
from fastapi.testclient import TestClient

from gridgov_notification.app import create_app
from gridgov_notification.settings import NotificationSettings

SECRET = "webhook-secret-0123456789abcdef"


@pytest.fixture
def client(common_settings):
    app = create_app(NotificationSettings(common=common_settings, run_delivery_worker=False))
    with TestClient(app) as c:
        yield c


def test_post_contact_then_list_hides_the_secret(client, token):
    resp = client.post("/v1/contacts", headers=token("admin", sub="ops-1"), json={
        "address": "department:water", "channel": "webhook", "target": "https://hooks.example.cn/water",
        "secret": SECRET})
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["has_secret"] is True and created["active"] is True and created["created_by"] == "ops-1"
    assert "secret" not in created
    page = client.get("/v1/contacts", params={"address": "department:water"}, headers=token("admin")).json()
    assert page["total"] == 1 and page["items"][0]["id"] == created["id"]
    assert SECRET not in str(page)
    assert client.get("/v1/contacts", params={"address": "department:roads"}, headers=token("admin")).json() == {
        "items": [], "total": 0}


def test_post_contact_twice_conflicts(client, token):
    body = {"address": "grid:441900001001001", "channel": "sms", "target": "+8613800138000"}
    assert client.post("/v1/contacts", json=body, headers=token("admin")).status_code == 201
    resp = client.post("/v1/contacts", json=body, headers=token("admin"))
    assert resp.status_code == 409 and resp.json()["error"]["details"][0]["field"] == "target"


@pytest.mark.parametrize(("body", "field"), [
    ({"channel": "webhook", "target": "https://hooks.example.cn/x"}, "secret"),
    ({"channel": "webhook", "target": "ftp://hooks.example.cn/x", "secret": SECRET}, "target"),
    ({"channel": "email", "target": "not-an-address"}, "target"),
    ({"channel": "sms", "target": "call-me"}, "target"),
    ({"channel": "sms", "target": "13800138000", "secret": SECRET}, "secret"),
    ({"channel": "fax", "target": "0769-1234567"}, "channel"),
    ({"channel": "sms", "target": "13800138000", "address": "water"}, "address"),
])
def test_post_contact_invalid_is_refused_naming_the_field(client, token, body, field):
    resp = client.post("/v1/contacts", json={"address": "user:u1", **body}, headers=token("admin"))
    assert resp.status_code == 422, resp.text
    assert field in [d["field"] for d in resp.json()["error"]["details"]]


@pytest.mark.parametrize("role", ["command_centre", "dept_dispatcher", "grid_worker", "citizen"])
def test_post_contact_by_non_admin_is_forbidden(client, token, role):
    resp = client.post("/v1/contacts", json={"address": "user:u1", "channel": "sms", "target": "13800138000"},
                       headers=token(role))
    assert resp.status_code == 403
    assert client.get("/v1/contacts", headers=token(role)).status_code == 403


def test_delete_contact_removes_it_and_again_is_not_found(client, token):
    created = client.post("/v1/contacts", json={"address": "user:u1", "channel": "email", "target": "u1@example.cn"},
                          headers=token("admin")).json()
    assert client.delete(f"/v1/contacts/{created['id']}", headers=token("admin")).status_code == 204
    assert client.get("/v1/contacts", headers=token("admin")).json()["total"] == 0
    resp = client.delete(f"/v1/contacts/{created['id']}", headers=token("admin"))
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
