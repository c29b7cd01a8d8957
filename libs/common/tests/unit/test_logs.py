"""Log redaction (issue #11): phones masked in every field, SQL parameters hidden, identifiers never touched.

Through ``configure_logging`` and a real stream handler, in both the JSON and the plain format.
"""

import json
import logging
import random
import uuid

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert
from sqlalchemy.exc import IntegrityError

from gridgov_common.logs import PARAMETERS_HIDDEN, PhoneMaskingFilter, configure_logging, mask_phones, redact

log = logging.getLogger("gridgov.test.logs")


@pytest.fixture
def captured(capsys):
    """configure_logging as a service calls it, writing to the captured stderr; the root logger restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def configure(json_lines: bool) -> None:
        configure_logging("test-service", "INFO", json_lines)

    def lines() -> str:
        for handler in root.handlers:
            handler.flush()
        return capsys.readouterr().err

    yield configure, lines
    root.handlers[:] = handlers
    root.setLevel(level)


def integrity_error() -> IntegrityError:
    """A real SQLAlchemy IntegrityError, whose text carries the insert's parameters (a name and a phone)."""
    metadata = MetaData()
    people = Table("people", metadata, Column("id", String, primary_key=True), Column("caller_name", String),
                   Column("caller_phone", String))
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    row = {"id": "r-1", "caller_name": "张三丰", "caller_phone": "13812345678"}
    try:
        with engine.begin() as conn:
            conn.execute(insert(people), [row])
            conn.execute(insert(people), [row])
    except IntegrityError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("the second insert should have failed")


@pytest.mark.parametrize("identifier", [
    "0c4b1a2e-8f1b-4e7c-9d2a-14438127690d",  # the id the old mask corrupted into …-144****7690d
    "0C4B1A2E-8F1B-4E7C-9D2A-13812345678D",
    "13812345-6781-4e7c-9d2a-a13912345678",
    "0c4b1a2e-8f1b-4e7c-9d2a-138123456789",
    str(uuid.UUID("00000000-0000-4000-8000-013912345678")),
    "HL-13812345678",  # a hotline order number that happens to hold a mobile number
    "13812345678-01",
    "report_13812345678",
    "t13812345678",
    "441900001001001",  # a grid code: longer than a phone
    "201811139999999999",
])
def test_mask_phones_leaves_identifier_unchanged(identifier):
    line = f"report {identifier} accepted"
    assert mask_phones(line) == line
    assert redact(line) == line


@pytest.mark.parametrize(("text", "masked"), [
    ("13812345678", "138****5678"),
    ("caller 13812345678 called", "caller 138****5678 called"),
    ("电话13812345678。", "电话138****5678。"),  # CJK neighbours are not identifier characters
    ("+8613812345678", "+86138****5678"),
    ("86-13812345678", "86-138****5678"),
    ("+86 138 1234 5678", "+86 138 **** 5678"),
    ("138 1234 5678", "138 **** 5678"),
    ("138-1234-5678", "138-****-5678"),
    ("phone=19912345678,", "phone=199****5678,"),
    ("('r-1', '13812345678')", "('r-1', '138****5678')"),
])
def test_mask_phones_masks_mobile_number_formats(text, masked):
    assert mask_phones(text) == masked


def test_mask_phones_leaves_landline_and_mixed_separators_alone():
    # Decided: only mainland mobile numbers are masked; a landline identifies an office, not a citizen.
    assert mask_phones("0769-22831234") == "0769-22831234"
    assert mask_phones("12345678901") == "12345678901"  # 12x is no mobile prefix


def test_mask_phones_quick_look_never_skips_a_line_the_full_pass_would_change():
    # mask_phones skips its full pass when a cheaper pattern finds nothing: over lines made of digits, separators,
    # prefixes, UUIDs and CJK, the answer must be the full pass's every time.
    from gridgov_common.logs import _PHONE_OR_UUID, _mask_match

    rng = random.Random(18)
    pieces = ["1", "3", "8", "9", "0", "5", " ", "-", "+86", "86", "电话", "a", "_", str(uuid.uuid4()), "138",
              "1234", "5678", "13812345678", "138 1234 5678", "+86 138-1234-5678"]
    changed = 0
    for _ in range(20_000):
        line = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        full = _PHONE_OR_UUID.sub(_mask_match, line)
        assert mask_phones(line) == full, line
        changed += full != line
    assert changed > 1000  # the corpus does hold phones, so both branches were taken


@pytest.mark.parametrize("json_lines", [True, False])
def test_configure_logging_masks_phone_in_traceback(captured, json_lines):
    configure, lines = captured
    configure(json_lines)
    try:
        raise ValueError("caller 13987654321 could not be reached")
    except ValueError:
        log.exception("delivery failed for report %s", "0c4b1a2e-8f1b-4e7c-9d2a-14438127690d")
    out = lines()
    assert "13987654321" not in out
    assert "139****4321" in out and "Traceback" in out
    assert "0c4b1a2e-8f1b-4e7c-9d2a-14438127690d" in out  # searchable by report id
    if json_lines:
        [entry] = [json.loads(line) for line in out.splitlines()]
        assert "139****4321" in entry["exc"] and entry["msg"].endswith("14438127690d")


@pytest.mark.parametrize("json_lines", [True, False])
def test_configure_logging_hides_sqlalchemy_parameters_in_traceback_and_message(captured, json_lines):
    configure, lines = captured
    configure(json_lines)
    exc = integrity_error()
    assert "张三丰" in str(exc) and "[parameters: " in str(exc)  # what would have been logged
    try:
        raise exc
    except IntegrityError:
        log.exception("insert failed")
    log.warning("transient failure, retrying: %s", exc)  # how the consumer runner logs a failure
    out = lines()
    assert "张三丰" not in out and "13812345678" not in out and "138****5678" not in out
    assert out.count(PARAMETERS_HIDDEN) == 2
    assert "UNIQUE constraint failed" in out and "INSERT INTO people" in out  # still says what went wrong


def test_configure_logging_masks_phone_in_extra_fields(captured):
    configure, lines = captured
    configure(True)
    log.info("callback scheduled", extra={"caller_phone": "13812345678", "numbers": ["+86 139 1234 5678"],
                                          "report_id": "0c4b1a2e-8f1b-4e7c-9d2a-14438127690d", "attempt": 2})
    [entry] = [json.loads(line) for line in lines().splitlines()]
    assert entry["extra"] == {"caller_phone": "138****5678", "numbers": ["+86 139 **** 5678"],
                              "report_id": "0c4b1a2e-8f1b-4e7c-9d2a-14438127690d", "attempt": 2}


def test_filter_log_record_masks_extra_fields_and_exception_text_for_any_formatter():
    try:
        raise RuntimeError("no answer on 13812345678")
    except RuntimeError:
        import sys

        record = log.makeRecord(log.name, logging.ERROR, __file__, 1, "failed", None, sys.exc_info(),
                                extra={"caller_phone": "13812345678"})
    assert PhoneMaskingFilter().filter(record) is True
    assert record.caller_phone == "138****5678"
    assert "138****5678" in record.exc_text and "13812345678" not in record.exc_text
    # A stock formatter reuses the redacted exc_text the filter left on the record.
    assert "13812345678" not in logging.Formatter().format(record)


def test_json_line_keeps_its_fields_and_writes_any_extra_value(captured):
    # #18 writes the line with orjson: the same fields as before, valid JSON whatever ``extra`` holds.
    from dataclasses import dataclass
    from datetime import UTC, datetime

    from gridgov_common.logs import correlation

    @dataclass
    class Caller:
        phone: str

    configure, lines = captured
    configure(True)
    with correlation("0c4b1a2e-8f1b-4e7c-9d2a-14438127690d"):
        log.warning("report %s: %d tries, 电话 %s", "r-1", 3, "13812345678",
                    extra={"when": datetime(2026, 1, 1, tzinfo=UTC), "codes": {1: "a"},
                           "caller": Caller("13912345678"), "ratio": float("nan")})
        log.warning("big", extra={"big": 2**70, "caller": Caller("13912345678")})  # beyond orjson: json writes it
    entry, big = [json.loads(line) for line in lines().splitlines()]
    assert list(entry) == ["ts", "level", "service", "logger", "msg", "correlation_id", "extra"]
    assert entry["level"] == "WARNING" and entry["service"] == "test-service" and entry["logger"] == log.name
    assert entry["msg"] == "report r-1: 3 tries, 电话 138****5678"
    assert datetime.fromisoformat(entry["ts"]).tzinfo is not None
    assert entry["extra"]["codes"] == {"1": "a"} and entry["extra"]["ratio"] is None
    assert big["extra"]["big"] == 2**70 and "139****5678" in big["extra"]["caller"]
    assert entry["extra"]["when"] == "2026-01-01 00:00:00+00:00"
    assert "13912345678" not in entry["extra"]["caller"] and "139****5678" in entry["extra"]["caller"]
