"""The request guard on a small app, driven through raw ASGI: what it reads, what it answers, and when."""

import asyncio
import itertools

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError

from gridgov_common.auth import mint_token
from gridgov_common.limits import DEFAULT_MAX_BODY, RequestGuard, RouteLimit
from gridgov_common.web import install_error_handlers

CHUNK = 64 * 1024
UPLOAD_MAX = 2 * 1024 * 1024  # the upload route's own limit, above the default
SECRET = "guard-test-secret"


def bearer(role: str) -> tuple[bytes, bytes]:
    """An Authorization header with a token that verifies against the test app's secret."""
    return (b"authorization", f"Bearer {mint_token(SECRET, sub=f'{role}-1', role=role)}".encode())


class KafkaTimeoutError(Exception):
    """Stands for kafka-python's error: the guard knows broker errors by their module, as the bus runner does."""


KafkaTimeoutError.__module__ = "kafka.errors"


def _app(reached: list[str]) -> FastAPI:
    app = FastAPI()
    app.state.jwt_secret = SECRET
    install_error_handlers(app)

    @app.post("/v1/things")
    async def post_thing(request: Request) -> dict:
        reached.append("handler")
        return {"size": len(await request.body())}

    # Two streamed routes with larger limits: one for any valid token, one for admins only.
    @app.post("/v1/upload")
    @app.post("/v1/things/import")
    async def upload(request: Request) -> dict:
        reached.append("handler")
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    @app.get("/v1/db-down")
    def db_down() -> dict:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    @app.get("/v1/broker-down")
    def broker_down() -> dict:
        raise KafkaTimeoutError("no broker")

    @app.get("/v1/integrity")
    def integrity() -> dict:
        raise IntegrityError("INSERT", {}, ValueError("duplicate"))

    @app.get("/v1/things/{thing_id}")
    def get_thing(thing_id: str) -> dict:
        return {"id": thing_id}

    app.add_middleware(RequestGuard, route_limits=(RouteLimit("POST", "/v1/upload$", UPLOAD_MAX),
                                                   RouteLimit("POST", "/v1/things/import$", UPLOAD_MAX,
                                                              roles=("admin",))))
    return app


def _drive(app, path: str, headers: list[tuple[bytes, bytes]], chunks) -> tuple[int, dict, bytes, int]:
    """Send ``chunks`` (an endless iterator is fine) as the body; (status, headers, body, bytes read by app)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1234), "server": ("127.0.0.1", 80)}
    read = [0]
    sent = []

    async def receive():
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read[0] += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, read[0]


def test_oversized_declared_body_is_413_before_a_byte_is_read():
    reached: list[str] = []
    status, headers, body, read = _drive(_app(reached), "/v1/things",
                                         [(b"content-type", b"application/json"),
                                          (b"content-length", str(400 * 1024 * 1024).encode())],
                                         itertools.repeat(b"x" * CHUNK))
    assert status == 413 and b'"payload_too_large"' in body and b'"field":"body"' in body
    assert read == 0 and reached == []
    assert headers["connection"] == "close" and headers["x-content-type-options"] == "nosniff"


def test_oversized_chunked_body_stops_reading_just_past_the_limit():
    reached: list[str] = []
    status, _headers, _body, read = _drive(_app(reached), "/v1/things", [(b"content-type", b"application/json")],
                                           itertools.repeat(b"x" * CHUNK))  # endless: only the guard stops it
    assert status == 413 and reached == []
    assert read <= DEFAULT_MAX_BODY + CHUNK


def test_oversized_chunked_upload_is_413_while_streaming_to_the_route():
    reached: list[str] = []
    status, _headers, body, read = _drive(_app(reached), "/v1/upload",
                                          [(b"content-type", b"image/png"), bearer("citizen")],
                                          itertools.repeat(b"x" * CHUNK))
    assert status == 413 and f"larger than {UPLOAD_MAX} bytes".encode() in body
    assert read <= UPLOAD_MAX + CHUNK


@pytest.mark.parametrize("authorization", [None, (b"authorization", b"Bearer made-up"),
                                           (b"authorization", b"Basic eDp5")], ids=["none", "made-up", "basic"])
def test_upload_route_limit_needs_a_token_that_verifies(authorization):
    size = DEFAULT_MAX_BODY + CHUNK  # over the default, under the route's own limit
    headers = [(b"content-type", b"image/png"), (b"content-length", str(size).encode())]
    status, _h, body, read = _drive(_app([]), "/v1/upload", headers + ([authorization] if authorization else []),
                                    iter([b"x" * CHUNK] * (size // CHUNK)))
    # Anyone can send an Authorization header; only a token that verifies earns the larger limit.
    assert status == 413 and f"larger than {DEFAULT_MAX_BODY} bytes".encode() in body and read == 0
    status, _h, body, _read = _drive(_app([]), "/v1/upload", headers + [bearer("citizen")],
                                     iter([b"x" * CHUNK] * (size // CHUNK)))
    assert status == 200 and body == f'{{"size":{size}}}'.encode()


def test_route_limit_with_roles_needs_one_of_them():
    size = DEFAULT_MAX_BODY + CHUNK
    headers = [(b"content-type", b"application/octet-stream"), (b"content-length", str(size).encode())]
    status, _h, body, read = _drive(_app([]), "/v1/things/import", headers + [bearer("citizen")],
                                    iter([b"x" * CHUNK] * (size // CHUNK)))
    assert status == 413 and f"larger than {DEFAULT_MAX_BODY} bytes".encode() in body and read == 0
    status, _h, body, _read = _drive(_app([]), "/v1/things/import", headers + [bearer("admin")],
                                     iter([b"x" * CHUNK] * (size // CHUNK)))
    assert status == 200 and body == f'{{"size":{size}}}'.encode()


def test_body_within_limit_reaches_route_whole():
    reached: list[str] = []
    status, _h, body, _read = _drive(_app(reached), "/v1/things", [(b"content-type", b"application/json")],
                                     iter([b'{"a": "', b"y" * 1000, b'"}']))
    assert status == 200 and body == b'{"size":1009}' and reached == ["handler"]


@pytest.fixture
def client():
    with TestClient(_app([]), raise_server_exceptions=False) as c:
        yield c


def test_json_nested_too_deep_is_422_naming_body(client):
    resp = client.post("/v1/things", content=b"[" * 5000 + b"]" * 5000, headers={"content-type": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"] == [{"field": "body", "reason": "JSON nested deeper than 32 levels"}]


def test_nul_in_path_parameter_is_422_naming_it(client):
    resp = client.get("/v1/things/ab%00c")
    assert resp.status_code == 422
    assert resp.json()["error"]["details"] == [{"field": "thing_id",
                                                "reason": "control character U+0000 not allowed"}]


def test_database_outage_is_503_with_retry_after_in_error_format(client):
    resp = client.get("/v1/db-down")
    assert resp.status_code == 503 and resp.headers["retry-after"] == "5"
    assert resp.json()["error"]["code"] == "unavailable"
    assert "connection refused" not in resp.text  # the driver's text stays in the log


def test_broker_outage_is_503_with_retry_after_in_error_format(client):
    resp = client.get("/v1/broker-down")
    assert resp.status_code == 503 and resp.headers["retry-after"] == "5"
    assert resp.json()["error"]["message"] == "the message bus is unavailable; retry later"


def test_integrity_error_is_not_mistaken_for_an_outage(client):
    assert client.get("/v1/integrity").status_code == 500
