"""The console app with the services behind it faked by an httpx mock transport (it has no database of its own)."""

import json
import logging
import re

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
    assert '<html lang="zh-CN">' in resp.text and "一网统管" in resp.text
    assert client.get("/static/app/app.js").status_code == 200  # the built front end, Leaflet bundled in it


def test_serve_no_file_of_the_retired_page(client):
    for path in ("/static/app.js", "/static/index.html", "/static/app.css", "/static/vendor/leaflet/leaflet.js"):
        assert client.get(path).status_code == 404, path


def test_answer_probes_without_services(client, upstream):
    upstream.answer = httpx.ConnectError("refused")
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"


def test_log_in_returns_token_for_shared_secret(client, upstream):
    upstream.answer = httpx.Response(200, json=[{"code": "urban-management"}, {"code": "water-affairs"}])
    resp = client.post("/api/login", json={"role": "dept_dispatcher", "sub": "d1", "department": "urban-management"})
    assert resp.status_code == 200
    token = resp.json()["token"]
    assert decode_token(SECRET, token).department == "urban-management"
    # the department was looked up in dispatch's list, with the token being handed out
    (asked,) = upstream.requests
    assert str(asked.url) == f"{DISPATCH}/v1/departments" and asked.headers["authorization"] == f"Bearer {token}"


ZH = {"Accept-Language": "zh-CN"}
GRID = "441900121029002"


def _feature(level: str) -> httpx.Response:
    return httpx.Response(200, json={"type": "Feature", "geometry": None,
                                     "properties": {"code": GRID, "name": "某网格", "level": level}})


def test_log_in_grid_worker_for_a_grid_of_the_city(tmp_path, upstream):
    c = _client(tmp_path, upstream, registry_url="http://registry.test")
    try:
        upstream.answer = _feature("grid")
        resp = c.post("/api/login", json={"role": "grid_worker", "sub": "gw-1", "grid": GRID})
    finally:
        c.__exit__(None, None, None)
    assert resp.status_code == 200 and decode_token(SECRET, resp.json()["token"]).grid == GRID
    (asked,) = upstream.requests
    assert str(asked.url) == f"http://registry.test/v1/grids/{GRID}"


@pytest.mark.parametrize(("answer", "reason", "reason_zh"), [
    (httpx.Response(404, json={"error": {"code": "not_found"}}), "no grid with this code in the grid set in effect",
     "当前网格版本中没有这个网格编码"),
    (httpx.Response(422, json={"error": {"code": "validation_failed"}}),
     "no grid with this code in the grid set in effect", "当前网格版本中没有这个网格编码"),
    (_feature("village"), f"{GRID} is a village, not a grid", f"{GRID} 是村（社区）编码，不是网格编码"),
    (_feature("town"), f"{GRID} is a town, not a grid", f"{GRID} 是镇街编码，不是网格编码"),
])
def test_log_in_refuses_a_grid_the_city_does_not_have(client, upstream, answer, reason, reason_zh):
    upstream.answer = answer
    body = {"role": "grid_worker", "sub": "gw-1", "grid": GRID}
    resp = client.post("/api/login", json=body)
    assert resp.status_code == 422 and "token" not in resp.text
    assert resp.json()["error"]["details"] == [{"field": "grid", "reason": reason}]
    zh = client.post("/api/login", json=body, headers=ZH).json()["error"]
    assert zh["message"] == "负责网格编码有误" and zh["details"] == [{"field": "grid", "reason": reason_zh}]


def test_log_in_refuses_a_department_the_city_does_not_have(client, upstream):
    upstream.answer = httpx.Response(200, json=[{"code": "urban-management"}])
    body = {"role": "dept_dispatcher", "sub": "d1", "department": "urban-managment"}
    resp = client.post("/api/login", json=body)
    assert resp.status_code == 422 and "token" not in resp.text
    assert resp.json()["error"]["details"] == [{"field": "department", "reason": "no department with this code"}]
    zh = client.post("/api/login", json=body, headers=ZH).json()["error"]
    assert zh["message"] == "所属部门编码有误" and zh["details"][0]["reason"] == "没有这个部门编码"


@pytest.mark.parametrize("name", ["王\x00敏", "王\u202e敏", "名" * 65, "", 42])
def test_log_in_refuses_a_bad_name_naming_it(client, name):
    body = {"role": "command_centre", "sub": "c1", "name": name}
    resp = client.post("/api/login", json=body)
    assert resp.status_code == 422 and "token" not in resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["name"]
    assert client.post("/api/login", json=body, headers=ZH).json()["error"]["details"][0]["field"] == "name"


@pytest.mark.parametrize("answer", [httpx.ConnectError("refused"), httpx.Response(500, text="boom"),
                                    httpx.Response(401, json={})])
def test_log_in_says_so_when_the_scope_cannot_be_checked(client, upstream, answer):
    upstream.answer = answer
    resp = client.post("/api/login", json={"role": "grid_worker", "sub": "gw-1", "grid": GRID}, headers=ZH)
    assert resp.status_code == 503 and "token" not in resp.text
    assert resp.json()["error"]["message"] == "网格服务暂时不可用，无法核对登录信息，请稍后重试"


def test_log_in_city_wide_roles_ask_no_service(client, upstream):
    upstream.answer = httpx.ConnectError("refused")
    for role in ("command_centre", "admin"):
        assert client.post("/api/login", json={"role": role, "sub": "c1"}).status_code == 200
    assert upstream.requests == []


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


class Captured(logging.Handler):
    """The console's log records (configure_logging replaces the root handlers, so caplog would miss them)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def console_log():
    handler = Captured()
    logger = logging.getLogger("gridgov_console")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _login_on(tmp_path, upstream, **overrides) -> tuple[httpx.Response, dict]:
    c = _client(tmp_path, upstream, **overrides)
    try:
        return (c.post("/api/login", json={"role": "admin", "sub": "someone"}), c.get("/api/login").json())
    finally:
        c.__exit__(None, None, None)


def test_refuse_dev_login_when_console_listens_beyond_loopback(tmp_path, upstream, console_log):
    resp, options = _login_on(tmp_path, upstream, host="0.0.0.0")
    assert resp.status_code == 403
    assert resp.json()["error"]["details"][0]["field"] == "login"
    assert "0.0.0.0" in resp.json()["error"]["details"][0]["reason"]
    assert options["dev_login"] is False
    assert not [r for r in console_log.records if r.levelno >= logging.WARNING]


def test_refuse_dev_login_on_distributed_stack_on_loopback(tmp_path, upstream):
    settings = ConsoleSettings(dispatch_url=DISPATCH, host="127.0.0.1", common=CommonSettings(
        data_dir=tmp_path, jwt_secret=SECRET, log_json=False, kafka_bootstrap_servers="127.0.0.1:19092"))
    with TestClient(create_app(settings)) as c:
        resp = c.post("/api/login", json={"role": "admin", "sub": "someone"})
    assert resp.status_code == 403
    assert "Kafka" in resp.json()["error"]["details"][0]["reason"]


def test_allow_dev_login_switched_on_explicitly_with_warning(tmp_path, upstream, console_log):
    resp, options = _login_on(tmp_path, upstream, host="0.0.0.0", dev_login=True)
    assert resp.status_code == 200
    assert decode_token(SECRET, resp.json()["token"]).role == "admin"
    assert options["dev_login"] is True
    warnings = [r.getMessage() for r in console_log.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "DEV login is ON" in warnings[0] and "explicitly" in warnings[0]


def test_allow_dev_login_on_embedded_loopback_stack_with_warning(tmp_path, upstream, console_log):
    resp, options = _login_on(tmp_path, upstream)  # the defaults: embedded, 127.0.0.1 (`gridgov up`)
    assert resp.status_code == 200 and options["dev_login"] is True
    assert any("DEV login is ON" in r.getMessage() for r in console_log.records if r.levelno == logging.WARNING)


def test_serve_page_with_csp_forbidding_inline_script(client):
    resp = client.get("/")
    policy = {d.split()[0]: d.split()[1:] for d in resp.headers["content-security-policy"].split("; ")}
    assert policy["script-src"] == ["'self'"]
    assert (policy["object-src"], policy["base-uri"], policy["frame-ancestors"]) == (["'none'"],) * 3
    assert "'unsafe-inline'" not in resp.headers["content-security-policy"]
    assert "'unsafe-eval'" not in resp.headers["content-security-policy"]
    # The page itself keeps to it: every script is a file, and no element carries an inline handler.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", resp.text) == []
    assert re.findall(r"\son[a-z]+\s*=", resp.text) == []


def test_refuse_token_in_url_for_live_feed(client):
    token = mint_token(SECRET, sub="c1", role="command_centre")
    resp = client.get(f"/api/events?access_token={token}")
    assert resp.status_code == 400
    assert resp.json()["error"]["details"][0]["field"] == "access_token"
    # Refused even beside a valid header: the token has leaked into a URL either way.
    resp = client.get(f"/api/events?access_token={token}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 400


def test_refuse_live_feed_to_a_citizen(client, upstream):
    token = mint_token(SECRET, sub="wx-1", role="citizen")
    resp = client.get("/api/events", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403 and resp.json()["error"]["details"][0]["field"] == "role"
    assert upstream.requests == []  # refused before dispatch is asked anything


def test_refuse_proxy_body_over_limit_before_passing_it_on(client, upstream):
    body = b"{" + b" " * (1024 * 1024) + b"}"  # just over the 1 MiB JSON limit
    resp = client.post("/api/dispatch/v1/tickets/t1/claim", content=body,
                       headers={"Content-Type": "application/json", "Authorization": "Bearer tok"})
    assert resp.status_code == 413
    assert resp.json()["error"]["details"] == [{"field": "body", "reason": "larger than 1048576 bytes"}]
    assert upstream.requests == []


def test_proxy_photo_upload_under_upload_limit(client, upstream):
    photo = b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024)  # 3 MB: over the JSON limit, under the upload limit
    upstream.answer = httpx.Response(201, json={"media_id": "m1"})
    token = mint_token(SECRET, sub="gw-1", role="grid_worker", grid="441900004003002")
    resp = client.post("/api/intake/v1/media", content=photo,
                       headers={"Content-Type": "image/jpeg", "Authorization": f"Bearer {token}"})
    assert resp.status_code == 201
    assert upstream.requests[-1].content == photo


def test_refuse_photo_upload_over_json_limit_with_a_made_up_token(client, upstream):
    photo = b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024)
    resp = client.post("/api/intake/v1/media", content=photo,
                       headers={"Content-Type": "image/jpeg", "Authorization": "Bearer made-up"})
    assert resp.status_code == 413 and upstream.requests == []


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
    with client.stream("GET", "/api/events", headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
            if line.startswith("data: ") and events[-1] == "ticket":
                assert json.loads(line.removeprefix("data: "))["id"] == "t1"
                break
    assert events == ["ready", "ticket"]


def test_allow_own_service_worker_and_manifest_only_in_page_policy(client):
    policy = {d.split()[0]: d.split()[1:]
              for d in client.get("/field").headers["content-security-policy"].split("; ")}
    assert policy["worker-src"] == ["'self'"]
    assert policy["manifest-src"] == ["'self'"]


def test_name_the_field_pages_own_chunk_in_its_link_header_only(client):
    # a phone on a slow network fetches the grid worker's page chunk with the entry's files (issue #14)
    link = client.get("/field").headers["link"]
    assert "</static/app/chunks/field.js>; rel=modulepreload" in link
    assert "</static/app/assets/field.css>; rel=preload; as=style" in link
    for name in ("chunks/field.js", "assets/field.css"):
        assert client.get(f"/static/app/{name}").status_code == 200  # the build has the files it names
    for page in ("/", "/queue", "/citizen", "/tickets/abc"):
        assert "link" not in client.get(page).headers  # other pages never download the field app


def test_serve_service_worker_at_root_uncached_with_build_precache(client):
    resp = client.get("/sw.js")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/javascript")
    assert resp.headers["cache-control"] == "no-cache"  # a new build's worker is found at the next visit
    # the worker runs under its own answer's policy: it may fetch the app's files from this origin (the services'
    # default for a script, default-src 'none', refused every fetch and the worker never installed)
    policy = {d.split()[0]: d.split()[1:] for d in resp.headers["content-security-policy"].split("; ")}
    assert policy["connect-src"] == ["'self'"] and policy["default-src"] == ["'none'"]
    # the build wrote the shell's files into it: the page, its script and the worker app's manifest
    for path in ("/static/app/index.html", "/static/app/app.js", "/static/app/manifest.webmanifest"):
        assert f'"{path}"' in resp.text
    manifest = client.get("/static/app/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.json()["start_url"] == "/field"


def test_compress_page_files_for_phones_on_slow_networks(client):
    resp = client.get("/static/app/app.js", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers["content-encoding"] == "gzip"
    assert resp.num_bytes_downloaded < len(resp.content) / 2  # what travelled is far smaller than the file
