"""The console app with the services behind it faked by an httpx mock transport (it has no database of its own)."""

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from gridgov_common.auth import decode_token, mint_token
from gridgov_common.settings import CommonSettings
from gridgov_console.app import create_app
from gridgov_console.settings import ConsoleSettings

SECRET = "console-api-test-secret-of-32-bytes-at-least"
DISPATCH = "http://dispatch.test"


class Upstream:
    """A fake service: records what it was sent, answers what the test sets."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.answer = httpx.Response(200, json={"items": [], "total": 0})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def upstream():
    return Upstream()


def _client(tmp_path, upstream, **overrides):
    settings = ConsoleSettings(dispatch_url=DISPATCH, feed_poll_s=0.05,
                               common=CommonSettings(data_dir=tmp_path, jwt_secret=SECRET, log_json=False),
                               **overrides)
    client = TestClient(create_app(settings))
    client.__enter__()
    client.app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    return client


@pytest.fixture
def client(tmp_path, upstream):
    c = _client(tmp_path, upstream)
    yield c
    c.__exit__(None, None, None)


def test_serve_page_in_chinese(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert '<html lang="zh-CN">' in resp.text and "控制台" in resp.text
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200


def test_answer_probes_without_services(client, upstream):
    upstream.answer = httpx.ConnectError("refused")
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"


def test_log_in_returns_token_for_shared_secret(client):
    resp = client.post("/api/login", json={"role": "dept_dispatcher", "sub": "d1", "department": "urban-management"})
    assert resp.status_code == 200
    assert decode_token(SECRET, resp.json()["token"]).department == "urban-management"


def test_log_in_without_department_names_field(client):
    resp = client.post("/api/login", json={"role": "dept_dispatcher", "sub": "d1"})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"] == [{"field": "department", "reason": "required for role dept_dispatcher"}]


def test_log_in_citizen_refused(client):
    assert client.post("/api/login", json={"role": "citizen", "sub": "c1"}).status_code == 422


def test_log_in_refused_when_dev_login_off(tmp_path, upstream):
    c = _client(tmp_path, upstream, dev_login=False)
    try:
        resp = c.post("/api/login", json={"role": "command_centre", "sub": "c1"})
    finally:
        c.__exit__(None, None, None)
    assert resp.status_code == 403
    assert "SSO" in resp.json()["error"]["details"][0]["reason"]


def test_proxy_passes_error_through_unchanged(client, upstream):
    body = {"error": {"code": "illegal_transition", "message": "cannot claim a ticket in state claimed",
                      "details": []}}
    upstream.answer = httpx.Response(409, json=body)
    resp = client.post("/api/dispatch/v1/tickets/t1/claim", json={}, headers={"Authorization": "Bearer tok"})
    assert (resp.status_code, resp.json()) == (409, body)
    sent = upstream.requests[-1]
    assert str(sent.url) == f"{DISPATCH}/v1/tickets/t1/claim"
    assert sent.headers["authorization"] == "Bearer tok"
    assert json.loads(sent.content) == {}


def test_proxy_keeps_query_and_etag(client, upstream):
    upstream.answer = httpx.Response(304, headers={"ETag": '"abc"', "Cache-Control": "max-age=15"})
    resp = client.get("/api/dispatch/v1/sla/counts?level=town", headers={"If-None-Match": '"abc"'})
    assert resp.status_code == 304 and resp.headers["etag"] == '"abc"'
    assert upstream.requests[-1].url.params["level"] == "town"
    assert upstream.requests[-1].headers["if-none-match"] == '"abc"'


def test_proxy_unknown_service_not_found(client):
    resp = client.get("/api/billing/v1/x")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_proxy_unreachable_service_unavailable(client, upstream):
    upstream.answer = httpx.ConnectError("refused")
    resp = client.get("/api/dispatch/v1/tickets")
    assert resp.status_code == 503
    assert "dispatch cannot be reached" in resp.json()["error"]["message"]


def test_stream_events_without_token_unauthenticated(client):
    assert client.get("/api/events").status_code == 401


def test_stream_ticket_change_as_server_sent_event(client, upstream):
    token = mint_token(SECRET, sub="c1", role="command_centre")
    pages = iter([
        {"items": [], "total": 0},
        {"items": [{"id": "t1", "state": "dispatched", "sla_level": "green", "version": 1,
                    "updated_at": "2026-01-01T00:00:00Z"}], "total": 1},
    ])
    last = {}

    def answer(request):
        last["page"] = next(pages, last.get("page"))
        return httpx.Response(200, json=last["page"])

    client.app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    events = []
    with client.stream("GET", f"/api/events?access_token={token}") as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
            if line.startswith("data: ") and events[-1] == "ticket":
                assert json.loads(line.removeprefix("data: "))["id"] == "t1"
                break
    assert events == ["ready", "ticket"]
