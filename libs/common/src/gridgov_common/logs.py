"""Structured JSON logs carrying the correlation id, so one report can be followed across services.

Privacy (issues #5 and #11): every log line is redacted before a handler writes it — the message, the
formatted exception and stack, and every string ``extra`` field. Mobile numbers are masked (138****5678);
the insert parameters SQLAlchemy embeds in its exceptions (``[parameters: …]``) are hidden whole, because
they carry reporters' names and addresses that no pattern can recognise. Identifiers are never touched: a
UUID or any other id that merely contains eleven digits in a row stays as it is, so logs stay searchable.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


@contextmanager
def correlation(correlation_id: str | None) -> Iterator[None]:
    """Tag every log line written inside the block with this correlation id."""
    token = _correlation_id.set(correlation_id)
    try:
        yield
    finally:
        _correlation_id.reset(token)


def current_correlation_id() -> str | None:
    """The correlation id of the work in progress, if any."""
    return _correlation_id.get()


# Masked formats: a mainland mobile number (11 digits, 13x to 19x), optionally +86 / 86 prefixed, written solid
# (13812345678) or grouped 3-4-4 by spaces or hyphens (138 1234 5678, +86 138-1234-5678). ASCII classes on
# purpose: \w would also match CJK, and "电话13812345678" must be masked. A phone never touches an ASCII letter,
# digit, underscore or hyphen on either side: those make it part of an identifier (a UUID's last group, an
# order number like HL-13812345678), which must stay searchable.
_EDGE_BEFORE = r"(?<![0-9A-Za-z_\-])"
_EDGE_AFTER = r"(?![0-9A-Za-z_\-])"
_PHONE = (r"(?P<head>(?:\+?86[- ]?)?1[3-9][0-9])(?P<sep1>[- ]?)[0-9]{4}(?P<sep2>(?P=sep1))"
          r"(?P<tail>[0-9]{4})")
# UUIDs are matched first and kept whole, so no rule about neighbours can ever reach inside one.
_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_PHONE_OR_UUID = re.compile(rf"(?P<uuid>{_UUID})|{_EDGE_BEFORE}(?P<phone>{_PHONE}){_EDGE_AFTER}")
# SQLAlchemy appends the bound values of a failed statement on one line: "[parameters: (…)]" (repr() escapes
# newlines inside values, so the line ends where the parameters end).
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
PARAMETERS_HIDDEN = "[parameters hidden]"


def _mask_match(match: re.Match[str]) -> str:
    if match.group("uuid"):
        return match.group(0)
    return f"{match['head']}{match['sep1']}****{match['sep2']}{match['tail']}"


# Every text a phone pattern matches contains this (the pattern without its prefix and edge rules): most log lines
# have none, and one search for it costs ~1 µs where the full pass, which calls back into Python for each UUID in
# the line, cost ~9 µs for a line with three UUIDs — about a tenth of writing the line (issue #18).
_MAYBE_PHONE = re.compile(r"1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}")


def mask_phones(text: str) -> str:
    """Mask every mobile number in ``text`` as 138****1234; identifiers (UUIDs, order numbers) stay whole."""
    if _MAYBE_PHONE.search(text) is None:
        return text
    return _PHONE_OR_UUID.sub(_mask_match, text)


def redact(text: str) -> str:
    """``text`` fit for a log: SQL parameters hidden, mobile numbers masked."""
    if "[parameters: " in text:
        text = _SQL_PARAMETERS.sub(PARAMETERS_HIDDEN, text)
    return mask_phones(text)


def _redact_value(value: Any) -> Any:
    """Redact strings, also inside lists, tuples and dicts; other values pass as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    return value


# Attributes every LogRecord has: anything else on a record came from ``extra=`` (uvicorn's color_message only
# repeats the message with terminal colours).
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "color_message", "_gridgov_redacted"}
# orjson writes dataclasses and times itself; passing them to ``default`` keeps them redacted text, as before.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller added with ``extra=``."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}


class PhoneMaskingFilter(logging.Filter):
    """Redacts every record before any handler writes it: message, exception, stack and extra fields."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record with phone numbers masked and SQL parameters hidden; never drops a record."""
        # The message is formatted once, here: the formatter's getMessage then returns it as it is.
        record.msg, record.args = redact(record.getMessage()), None
        record._gridgov_redacted = True  # the JSON formatter need not redact the message a second time
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is rendered once, here, redacted.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in extra_fields(record).items():
            setattr(record, name, _redact_value(value))
        return True


class RedactingFormatter(logging.Formatter):
    """The plain-text formatter with tracebacks and stacks redacted, even on a handler without the filter."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - the logging API's name
        """The traceback, redacted."""
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - the logging API's name
        """The stack, redacted."""
        return redact(super().formatStack(stack_info))

    def format(self, record: logging.LogRecord) -> str:
        """The line, redacted as a whole (a cached ``exc_text`` from elsewhere is covered too)."""
        return redact(super().format(record))


class JsonFormatter(RedactingFormatter):
    """One JSON object per line: time, level, service, logger, message, correlation_id, exc, extra."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as one JSON line, every text in it redacted."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage() if getattr(record, "_gridgov_redacted", False) else redact(record.getMessage()),
        }
        cid = _correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        extra = extra_fields(record)
        if extra:
            entry["extra"] = _redact_value(extra)
        try:
            return orjson.dumps(entry, default=_redacted_text, option=_ORJSON_OPTIONS).decode()
        except (TypeError, orjson.JSONEncodeError):  # an integer beyond 64 bits, say: the standard library
            return json.dumps(entry, ensure_ascii=False, default=_redacted_text)


def _redacted_text(value: Any) -> str:
    """A value JSON has no type for, as redacted text."""
    return redact(str(value))


def configure_logging(service: str, level: str = "INFO", json_lines: bool = True) -> None:
    """Send logs to stderr, as JSON lines unless ``json_lines`` is off; every line redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if json_lines else RedactingFormatter(
        f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PhoneMaskingFilter())
    # No line here prints where a call came from (file, line, function) or its thread or process: the logging
    # HOWTO's "Optimization" settings skip collecting them, ~4-10 µs of the ~20-27 µs each record cost (measured,
    # 20,000 records, issue #18: the loop writes five lines a report). Tracebacks are unaffected.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
