"""The pure parts of the request guard and the strict types: text policy, JSON depth, field naming, headers."""

import json
import math
import random

import pytest
from pydantic import BaseModel, ValidationError

from gridgov_common.events.reports import ReportLocated, ReportReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.limits import (
    API_CSP,
    DOCS_CSP,
    RouteLimit,
    _json_suspect,
    is_loopback,
    json_too_deep,
    json_violations,
    multipart_violations,
    security_headers,
    text_body_violations,
    text_violation,
    urlencoded_violations,
)
from gridgov_common.schemas import Integer, Latitude, Longitude, Number


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\x7f", "\x80", "\x9f",
                                  "\ud800", "\udfff"])
def test_text_violation_refuses_control_characters_and_lone_surrogates(char):
    assert text_violation(f"pipe{char}burst") == f"control character U+{ord(char):04X} not allowed"


def test_text_violation_allows_tab_newline_return_and_chinese():
    assert text_violation("路边\t有暴露垃圾\r\n第二行 \u00a0 😀") is None


def test_json_violations_name_the_field_path_as_the_client_wrote_it():
    body = json.dumps({"description": "a\u0000b", "media_ids": ["ok", "x\u0001"],
                       "nested": {"k\u007f": "v"}}).encode()
    assert json_violations(body) == [
        ("description", "control character U+0000 not allowed"),
        ("media_ids.1", "control character U+0001 not allowed"),
        ("nested.k\\u007f", "name: control character U+007F not allowed"),
    ]


def test_json_violations_find_lone_surrogate_escape_but_not_a_pair():
    assert json_violations(b'{"description": "\\ud800"}') == [("description",
                                                              "control character U+D800 not allowed")]
    assert json_violations(b'{"description": "\\ud83d\\ude00"}') == []  # a valid pair: an emoji


def test_json_violations_ignore_an_escaped_backslash_before_u0000():
    # "\\u0000" is a backslash followed by the text u0000: the fast path hits, the parse finds nothing.
    assert json_violations(b'{"description": "C:\\\\u0000"}') == []


def test_json_violations_leave_malformed_json_to_fastapi():
    assert json_violations(b'{"description": "\\u0000') == []


def test_json_too_deep_refuses_33_levels_and_ignores_brackets_in_strings():
    assert json_too_deep(b"[" * 33 + b"]" * 33)
    assert not json_too_deep(b"[" * 32 + b"]" * 32)
    assert not json_too_deep(json.dumps({"description": "[" * 100}).encode())
    assert not json_too_deep(json.dumps([[i] for i in range(1000)]).encode())  # wide, not deep


@pytest.mark.parametrize("inner", ['\\', '\\"[', 'a\\\\', '\\\\\\"', '"]', '\\"]]]'])
def test_json_too_deep_reads_escaped_quotes_and_backslash_runs_as_a_lexer_does(inner):
    # Strings that end in escaped backslashes or hold escaped quotes beside brackets: the nesting outside them is
    # what counts, whichever way the escapes fall.
    nested = json.dumps([[[[{"text": inner * 3, "more": [inner]}]]]]).encode()
    assert not json_too_deep(nested, max_depth=6)
    assert json_too_deep(nested, max_depth=5)


def test_json_too_deep_agrees_with_parsing_on_generated_bodies():
    rnd = random.Random(16)

    def value(depth: int) -> object:
        if depth == 0 or rnd.random() < 0.2:
            return "".join(rnd.choice('[]{}"\\a 中\x85😀') for _ in range(rnd.randint(0, 6)))
        if rnd.random() < 0.5:
            return [value(depth - 1) for _ in range(rnd.randint(0, 3))]
        return {str(i): value(depth - 1) for i in range(rnd.randint(0, 3))}

    def depth_of(v: object) -> int:
        children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else None
        return 0 if children is None else 1 + max((depth_of(c) for c in children), default=0)

    for _ in range(500):
        parsed = value(rnd.randint(1, 12))
        body = json.dumps(parsed, ensure_ascii=rnd.random() < 0.5).encode()
        limit = rnd.randint(1, 8)
        assert json_too_deep(body, max_depth=limit) == (depth_of(parsed) > limit), body


@pytest.mark.parametrize("body", [b'{"a": "x\x01"}', b'{"a": "\xc2\x85"}', b'{"a": "\x7f"}', b'{"\x00": 1}',
                                  b'{"a": "\\u0085"}', b'{"a": "\\u001f"}', b'{"a": "\\u007F"}',
                                  b'{"a": "\xe4\xb8\xad\xc2\x9f\xe4\xb8\xad"}'])
def test_json_guard_fast_path_passes_raw_and_escaped_controls_among_other_text(body):
    # Each beside plain ASCII and Chinese, raw or escaped: the fast path must let every one through to the check,
    # which names it (a raw C0 control is not JSON at all: FastAPI refuses the body, as it did before).
    padded = body[:-1] + b', "b": "' + "东城街道".encode() * 50 + b' plain ascii"}'
    assert _json_suspect(padded)
    assert json_violations(padded) or not _parses(padded)
    assert not _json_suspect(padded.replace(body[:-1], b'{"a": "plain"'))


def _parses(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def test_urlencoded_violations_name_the_parameter():
    assert urlencoded_violations(b"status=op%01en&service_code=01002") == [
        ("status", "control character U+0001 not allowed")]
    assert urlencoded_violations(b"q=%C2%85") == [("q", "control character U+0085 not allowed")]
    assert urlencoded_violations(b"note=line%0Anext%09tab") == []


def test_multipart_violations_check_text_fields_and_file_names_not_file_bytes():
    boundary = b"XyZ"
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\npipe\x00burst\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a\x01.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n\x89PNG\x00\x01\x02\x7f\r\n--XyZ--\r\n")
    assert multipart_violations(body, boundary) == [
        ("description", "control character U+0000 not allowed"),
        ("media.filename", "control character U+0001 not allowed"),
    ]


def test_text_body_violations_name_the_line():
    assert text_body_violations("code,name\n01002,垃圾\x00\n".encode()) == [
        ("body", "line 2: control character U+0000 not allowed")]
    assert text_body_violations("code,name\n01002,垃圾\n".encode()) == []


def test_route_limit_matches_exact_path_or_prefix():
    assert RouteLimit("POST", "/v1/media$", 10).matches("POST", "/v1/media")
    assert not RouteLimit("POST", "/v1/media$", 10).matches("POST", "/v1/media/x")
    assert not RouteLimit("POST", "/v1/media$", 10).matches("GET", "/v1/media")
    assert RouteLimit("PUT", "/api/", 10).matches("PUT", "/api/intake/v1/media")
    assert not RouteLimit("PUT", "/api/", 10).matches("PUT", "/apix")


def test_security_headers_added_and_app_own_policy_kept():
    added = dict(security_headers("/v1/reports/x", [(b"content-type", b"application/json")]))
    assert added[b"x-content-type-options"] == b"nosniff"
    assert added[b"x-frame-options"] == b"DENY"
    assert added[b"referrer-policy"] == b"no-referrer"
    assert added[b"content-security-policy"] == API_CSP.encode()
    docs = dict(security_headers("/docs", [(b"content-type", b"text/html; charset=utf-8")]))
    assert docs[b"content-security-policy"] == DOCS_CSP.encode()
    page = [(b"content-type", b"text/html"), (b"content-security-policy", b"default-src 'self'")]
    assert dict(security_headers("/", page))[b"content-security-policy"] == b"default-src 'self'"


def test_is_loopback_only_for_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.1.2.3")
    assert not is_loopback("10.0.0.5") and not is_loopback("testclient") and not is_loopback(None)


class _Point(BaseModel):
    lon: Longitude
    lat: Latitude
    amount: Number = 1.0
    count: Integer = 0


@pytest.mark.parametrize("change", [{"lon": True}, {"lat": "23.0"}, {"amount": float("inf")},
                                    {"amount": math.nan}, {"count": True}, {"count": "3"}, {"count": 3.0},
                                    {"lon": 1e308}])
def test_strict_number_types_refuse_bool_string_and_non_finite(change):
    with pytest.raises(ValidationError):
        _Point.model_validate({"lon": 113.75, "lat": 23.02, **change})


def test_strict_number_types_accept_int_and_float_from_json():
    point = _Point.model_validate_json('{"lon": 113, "lat": 23.02, "amount": 2, "count": 4}')
    assert (point.lon, point.lat, point.amount, point.count) == (113.0, 23.02, 2.0, 4)


RECEIVED = {"report_id": "r-1", "channel": "patrol", "category_code": "01002", "description": "路边有暴露垃圾",
            "lon": 113.75, "lat": 23.02, "reporter_id": "gw-1", "reporter_role": "grid_worker",
            "submitted_at": "2026-12-01T00:00:00Z"}


@pytest.mark.parametrize(("change", "field"), [
    ({"description": "x" * 3_000_000}, "description"),
    ({"report_id": "r" * 5000}, "report_id"),
    ({"lon": 1e308}, "lon"),
    ({"lat": -90.5}, "lat"),
    ({"lon": True}, "lon"),
    ({"description": "pipe\u0000burst"}, "description"),
    ({"media_ids": ["m\u0001"]}, "media_ids"),
])
def test_report_received_refuses_what_intake_would_refuse(change, field):
    with pytest.raises(ValidationError) as refused:
        ReportReceived.model_validate({**RECEIVED, **change})
    assert refused.value.errors()[0]["loc"][0] == field


def test_report_located_and_ticket_event_refuse_control_characters():
    with pytest.raises(ValidationError):
        ReportLocated.model_validate({"report": RECEIVED, "location": {"status": "located",
                                                                       "grid_name": "网格\u0000"}})
    event = {"ticket_id": "t", "report_id": "r", "action": "claim", "from_state": "dispatched",
             "to_state": "claimed", "category_code": "01002", "department": "d", "grid_code": None,
             "village_code": None, "town_code": None, "reporter_id": "gw", "deadline": None, "actor_id": "a",
             "actor_role": "dept_dispatcher", "occurred_at": "2026-12-01T00:00:00Z"}
    assert TicketEvent.model_validate(event).action == "claim"
    with pytest.raises(ValidationError):
        TicketEvent.model_validate({**event, "note": "bad\u001b[31m"})
