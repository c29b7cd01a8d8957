"""The citizen's login (issue #14): a phone confirmed by notification's SMS code, or anonymous; the console mints
a citizen token whose subject reveals neither the phone nor the device id. notification is faked."""

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from gridgov_common.auth import decode_token
from gridgov_common.settings import CommonSettings
from gridgov_console.app import create_app
from gridgov_console.settings import ConsoleSettings

SECRET = "console-citizen-test-secret-of-32-bytes"
NOTIFICATION = "http://notification.test"
PHONE = "13800138000"
REQUEST_ID = "0f8e7c1a-1111-4222-8333-444455556666"
DEVICE = "device-0123456789abcdef"


class Notification:
    """notification, faked: records what it was sent, answers what the test sets."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.answer = httpx.Response(200, json={"id": REQUEST_ID, "phone": PHONE,
                                                "confirmed_at": "2026-12-02T06:00:00Z"})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def notification():
    return Notification()


def make_client(tmp_path, notification, common=None, **overrides) -> TestClient:
    common = common or CommonSettings(data_dir=tmp_path, jwt_secret=SECRET, log_json=False)
    client = TestClient(create_app(ConsoleSettings(notification_url=NOTIFICATION, common=common, **overrides)))
    client.__enter__()
    client.app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(notification))
    return client


@pytest.fixture
def client(tmp_path, notification):
    c = make_client(tmp_path, notification)
    yield c
    c.__exit__(None, None, None)


def log_in(client, code="123456", phone=PHONE):
    return client.post("/api/citizen/login", json={"request_id": REQUEST_ID, "phone": phone, "code": code},
                       headers={"Accept-Language": "zh-CN"})


def test_log_in_citizen_with_confirmed_phone_mints_token_whose_subject_hides_the_phone(client, notification):
    resp = log_in(client)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    principal = decode_token(SECRET, body["token"])
    assert principal.role == "citizen" and principal.sub == body["sub"]
    assert body["sub"].startswith("c-") and PHONE not in body["sub"] and PHONE[-4:] not in body["sub"]
    assert body["phone"] == PHONE and body["anonymous"] is False
    assert PHONE not in body["token"].split(".")[1]  # nor in the token's claims
    [sent] = notification.requests
    assert str(sent.url) == f"{NOTIFICATION}/v1/phone-codes/{REQUEST_ID}/confirm"
    assert json.loads(sent.content) == {"phone": PHONE, "code": "123456"}
    assert sent.headers["accept-language"] == "zh-CN"
    assert log_in(client).json()["sub"] == body["sub"]  # the same phone is the same citizen next time


def test_log_in_citizen_passes_notifications_refusal_back_unchanged(client, notification):
    refusal = {"error": {"code": "code_locked", "message": "验证码已锁定",
                         "details": [{"field": "code", "reason": "验证码错误已达 3 次，本次验证码已作废，请重新获取"}]}}
    notification.answer = httpx.Response(409, json=refusal)
    resp = log_in(client, code="000000")
    assert resp.status_code == 409 and resp.json() == refusal


def test_log_in_citizen_without_a_confirmation_is_401(client, notification):
    notification.answer = httpx.Response(200, json={"items": [], "total": 0})
    resp = log_in(client)
    assert resp.status_code == 401 and "token" not in resp.json()
    assert resp.json()["error"]["details"] == [{"field": "code", "reason": "验证码未通过验证"}]


def test_log_in_citizen_with_notification_down_is_503(client, notification):
    notification.answer = httpx.ConnectError("refused")
    assert log_in(client).status_code == 503


def test_log_in_anonymous_citizen_mints_token_for_the_device_not_naming_it(client, notification):
    resp = client.post("/api/citizen/anonymous", json={"device_id": DEVICE})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["sub"].startswith("anon-") and DEVICE not in body["sub"] and body["anonymous"] is True
    assert decode_token(SECRET, body["token"]).role == "citizen"
    other = client.post("/api/citizen/anonymous", json={"device_id": DEVICE + "x"}).json()["sub"]
    assert other != body["sub"]
    assert notification.requests == []  # nothing to confirm


def test_log_in_anonymous_citizen_with_a_short_device_id_is_422_naming_it(client):
    resp = client.post("/api/citizen/anonymous", json={"device_id": "abc"})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["device_id"]


def test_offer_citizen_login_in_login_options(client):
    assert client.get("/api/login").json() | {"dev_login": None} == {
        "dev_login": None, "citizen_phone": True, "citizen_anonymous": True}


def test_refuse_citizen_login_where_services_accept_only_the_citys_tokens(tmp_path, notification):
    common = CommonSettings(data_dir=tmp_path, jwt_secret=SECRET, log_json=False,
                            oidc_issuer="https://sso.example.gov.cn", oidc_audience="gridgov",
                            oidc_accept_local_tokens=False)
    client = make_client(tmp_path, notification, common=common)
    try:
        options = client.get("/api/login").json()
        assert options["citizen_phone"] is False and options["citizen_anonymous"] is False
        resp = log_in(client)
        assert resp.status_code == 403 and resp.json()["error"]["details"][0]["field"] == "login"
        assert client.post("/api/citizen/anonymous", json={"device_id": DEVICE}).status_code == 403
        assert notification.requests == []
    finally:
        client.__exit__(None, None, None)


def test_refuse_anonymous_login_when_switched_off(tmp_path, notification):
    client = make_client(tmp_path, notification, citizen_anonymous=False)
    try:
        assert client.post("/api/citizen/anonymous", json={"device_id": DEVICE}).status_code == 403
        assert log_in(client).status_code == 200
    finally:
        client.__exit__(None, None, None)


def test_keep_citizen_subjects_under_a_configured_key_apart_from_the_secret(tmp_path, notification):
    client = make_client(tmp_path, notification, citizen_subject_key="a-key-of-at-least-16-chars")
    try:
        keyed = log_in(client).json()["sub"]
    finally:
        client.__exit__(None, None, None)
    default = make_client(tmp_path, notification)
    try:
        assert log_in(default).json()["sub"] != keyed
    finally:
        default.__exit__(None, None, None)


@pytest.mark.parametrize("request_id", ["../../v1/contacts", "a/b", "x" * 37])
def test_log_in_citizen_with_a_request_id_that_is_not_an_id_is_422_and_calls_nothing(client, notification,
                                                                                     request_id):
    resp = client.post("/api/citizen/login", json={"request_id": request_id, "phone": PHONE, "code": "123456"})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["request_id"]
    assert notification.requests == []
