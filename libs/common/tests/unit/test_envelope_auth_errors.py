import json
import uuid
from datetime import UTC, datetime

import pytest

from gridgov_common.auth import decode_token, load_secret, mint_token
from gridgov_common.bus.envelope import Envelope, MalformedMessage, new_envelope
from gridgov_common.errors import (
    Conflict,
    Forbidden,
    IllegalTransition,
    NotFound,
    ValidationFailed,
    status_for,
)
from gridgov_common.events.reports import ReportReceived
from gridgov_common.settings import CommonSettings


def test_envelope_round_trips_with_tz_aware_time():
    payload = ReportReceived(report_id="r1", channel="patrol", category_code="01002", description="d",
                             lon=113.7, lat=23.0, reporter_id="u", reporter_role="grid_worker",
                             submitted_at=datetime.now(UTC))
    env = new_envelope(type="report.received", producer="event-intake", key="r1", payload=payload,
                       correlation_id="r1")
    back = Envelope.from_bytes(env.to_bytes())
    assert back == env
    assert back.occurred_at.tzinfo is not None
    assert ReportReceived.model_validate(back.payload) == payload


def test_envelope_encoded_the_old_way_still_decodes():
    # Before #18 envelopes were written by pydantic's model_dump_json (time with "Z"); the bus keeps them.
    payload = ReportReceived(report_id="r2", channel="patrol", category_code="01002", description="路边垃圾",
                             lon=113.7, lat=23.0, reporter_id="u", reporter_role="grid_worker",
                             submitted_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    env = new_envelope(type="report.received", producer="event-intake", key="r2", payload=payload,
                       correlation_id="r2", causation_id="c1")
    old = env.model_dump_json().encode()
    assert b'Z"' in old
    back = Envelope.from_bytes(old)
    assert back == env and back.occurred_at == env.occurred_at
    assert ReportReceived.model_validate(back.payload) == payload


def test_envelope_wire_format_keeps_the_fields_and_values_of_the_old_encoding():
    env = Envelope(type="t", producer="p", key="k", correlation_id="c", causation_id=None,
                   payload={"n": 1, "x": 1.5, "s": "中文", "l": [None, True], "d": {"a": "b"}})
    new, old = json.loads(env.to_bytes()), json.loads(env.model_dump_json())
    assert list(new) == list(old)  # same fields, same order
    assert datetime.fromisoformat(new.pop("occurred_at")) == datetime.fromisoformat(old.pop("occurred_at"))
    assert new == old
    assert "中文".encode() in env.to_bytes()  # UTF-8, not \u escapes, like before


def test_envelope_payload_values_orjson_cannot_write_go_through_pydantic():
    env = Envelope(type="t", producer="p", key="k", correlation_id="c",
                   payload={"big": 2**70, "when": datetime(2026, 1, 1, tzinfo=UTC), "id": uuid.UUID(int=1)})
    back = Envelope.from_bytes(env.to_bytes())
    assert back.payload["big"] == 2**70 and back.payload["id"] == str(uuid.UUID(int=1))


@pytest.mark.parametrize("raw", [b"not json", b"{}", b'{"type": "x"}', "中文".encode(), b"[1]", b"\xff\xfe"])
def test_envelope_from_bytes_rejects_malformed(raw):
    with pytest.raises(MalformedMessage):
        Envelope.from_bytes(raw)


def test_envelope_rejects_naive_time():
    raw = Envelope(type="t", producer="p", key="k", correlation_id="c", payload={}).model_dump(mode="json")
    raw["occurred_at"] = "2026-11-25T10:00:00"
    with pytest.raises(MalformedMessage):
        Envelope.from_bytes(str(raw).replace("'", '"').encode())


def test_token_round_trips_role_department_grid():
    tok = mint_token("s3cret", sub="u1", role="dept_dispatcher", department="water")
    p = decode_token("s3cret", tok)
    assert (p.sub, p.role, p.department, p.grid) == ("u1", "dept_dispatcher", "water", None)
    assert "department:water" in p.inbox_addresses


@pytest.mark.parametrize("case", ["wrong-secret", "expired", "garbage"])
def test_decode_token_refuses_bad_tokens(case):
    from gridgov_common.errors import Unauthenticated

    tok = {"wrong-secret": mint_token("other", sub="u", role="admin"),
           "expired": mint_token("s3cret", sub="u", role="admin", ttl_seconds=-10),
           "garbage": "abc.def.ghi"}[case]
    with pytest.raises(Unauthenticated):
        decode_token("s3cret", tok)


def test_mint_token_refuses_unknown_role():
    with pytest.raises(ValueError, match="unknown role"):
        mint_token("s", sub="u", role="mayor")


def test_load_secret_is_generated_once_per_data_dir(tmp_path):
    common = CommonSettings(data_dir=tmp_path)
    first = load_secret(common)
    assert len(first) >= 32 and load_secret(common) == first
    assert (tmp_path / "jwt.secret").stat().st_mode & 0o077 == 0


def test_error_table_maps_each_class_to_its_status():
    assert status_for(IllegalTransition("registered", "close", ["dispatch"])) == 409
    assert status_for(Conflict("stale")) == 409
    assert status_for(ValidationFailed("bad")) == 422
    assert status_for(NotFound("ticket", str(uuid.uuid4()))) == 404
    assert status_for(Forbidden("no")) == 403
    body = IllegalTransition("registered", "close", ["dispatch"]).body()["error"]
    assert body["code"] == "illegal_transition" and "dispatch" in body["details"][0]["reason"]
