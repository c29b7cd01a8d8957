"""Issue #11 on the console: its proxy refuses an oversized body before reading it (it read 400 MB whole before
its 413), refuses control characters naming the field, and every answer carries the security headers."""

import httpx
import pytest
from fastapi.testclient import TestClient

from gridgov_common.auth import mint_token
from gridgov_common.settings import CommonSettings
from gridgov_console.app import create_app
from gridgov_console.settings import ConsoleSettings

SECRET = "console-guard-test-secret-of-32-bytes-at-least"
DISPATCH = "http://dispatch.test"


@pytest.fixture
def forwarded():
    return []


@pytest.fixture
def client(tmp_path, forwarded):
    settings = ConsoleSettings(dispatch_url=DISPATCH,
                               common=CommonSettings(data_dir=tmp_path, jwt_secret=SECRET, log_json=False))
    with TestClient(create_app(settings)) as c:
        c.app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(
            lambda request: forwarded.append(request) or httpx.Response(200, json={"ok": True})))
        yield c


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, sub='cc', role='command_centre')}"}


def test_proxy_refuses_body_over_its_limit_before_reading_it(client, forwarded):
    limit = client.app.state.settings.proxy_max_body_bytes

    def chunks():  # far more than the limit, chunked (the raw-ASGI tests in libs/common count what is read)
        for _ in range(limit // 65536 + 400):
            yield b"x" * 65536

    resp = client.post("/api/dispatch/v1/tickets/t-1/handle", content=chunks(),
                       headers={**_auth(), "content-type": "application/json"})
    assert resp.status_code == 413
    assert resp.json()["error"]["details"] == [{"field": "body", "reason": f"larger than {limit} bytes"}]
    assert forwarded == []
    resp = client.post("/api/dispatch/v1/tickets/t-1/handle", content=b"x" * (limit + 1),
                       headers={**_auth(), "content-type": "application/json"})
    assert resp.status_code == 413 and forwarded == []


def test_proxy_without_token_gets_the_default_limit(client, forwarded):
    resp = client.post("/api/dispatch/v1/tickets/t-1/handle", content=b"x" * (2 << 20),
                       headers={"content-type": "application/json"})
    assert resp.status_code == 413 and "1048576" in resp.text and forwarded == []


def test_proxy_refuses_nul_in_json_naming_field(client, forwarded):
    resp = client.post("/api/dispatch/v1/tickets/t-1/handle", json={"note": "a\u0000"}, headers=_auth())
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "note"
    assert forwarded == []


def test_proxy_passes_clean_body_and_answers_carry_security_headers(client, forwarded):
    resp = client.post("/api/dispatch/v1/tickets/t-1/handle", json={"note": "已处理\n第二行"}, headers=_auth())
    assert resp.status_code == 200 and len(forwarded) == 1
    for answer in (resp, client.get("/healthz"), client.get("/")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "content-security-policy" in answer.headers
