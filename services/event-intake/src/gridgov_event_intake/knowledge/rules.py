"""Rules of an article's writing, pure: its validity dates and the version a change was based on."""

from __future__ import annotations

import re
from datetime import date

from gridgov_common.errors import ErrorDetail, ValidationFailed

# An article's dates lie in this century: a year 2500 or 0001 is a typo, not a policy.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def check_dates(valid_from: date, valid_to: date | None) -> None:
    """ValidationFailed naming each bad date: outside 2000–2099, or valid_to before valid_from."""
    problems = [ErrorDetail(name, f"must be between {EARLIEST} and {LATEST}",
                            f"须在 {EARLIEST} 至 {LATEST} 之间")
                for name, value in (("valid_from", valid_from), ("valid_to", valid_to))
                if value is not None and not EARLIEST <= value <= LATEST]
    if not problems and valid_to is not None and valid_to < valid_from:
        problems.append(ErrorDetail("valid_to", f"{valid_to} is before valid_from {valid_from}",
                                    f"有效期止 {valid_to} 早于有效期起 {valid_from}"))
    if problems:
        error = ValidationFailed("invalid validity dates", problems)
        error.message_zh = "有效期不正确"
        raise error


def expected_version(if_match: str | None, body_version: int | None) -> int | None:
    """The version a change was based on: If-Match (``"3"``, ``W/"3"`` or ``3``) over the body's ``version``;
    None for If-Match ``*`` (any version). ValidationFailed naming the field when neither says it, or If-Match
    is not a version."""
    if if_match is not None:
        if if_match.strip() == "*":
            return None
        m = _ETAG.match(if_match)
        if m is None or int(m[1]) < 1:
            error = ValidationFailed("If-Match is not an article version",
                                     [ErrorDetail("If-Match", 'expected the ETag of the article read, e.g. "3"',
                                                  '应为读取时的版本号（ETag），例如 "3"')])
            error.message_zh = "If-Match 不是有效的版本号"
            raise error
        return int(m[1])
    if body_version is None:
        error = ValidationFailed("the version read is required", [ErrorDetail(
            "version", "required (or If-Match): the version of the article you changed",
            "必填（或 If-Match）：修改所依据的版本号")])
        error.message_zh = "缺少版本号"
        raise error
    return body_version
