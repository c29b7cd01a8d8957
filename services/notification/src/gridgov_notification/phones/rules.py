"""Phone confirmation rules, pure: values in, values out (no database, no clock, no SMS).

A citizen asks for a code for their mobile number; notification sends a six-digit code by SMS and keeps only its
keyed hash. The code confirms the number once, before it expires; a wrong code counts, and the request is
locked at the maximum (three by default): the citizen then asks for a new code, which is rate-limited per phone,
per client and for everyone together, so guessing costs SMS the limits do not give.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from gridgov_common.errors import Conflict, ErrorDetail, Gone, RateLimited, ValidationFailed

CODE_DIGITS = 6
# A mainland mobile number: 11 digits starting 13–19; "+86", "0086" or "86" before it and spaces or dashes in
# it are what people type and are dropped.
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_SEPARATORS = re.compile(r"[\s-]")


def _zh(error, message_zh: str):
    """``error`` with its Chinese message (the detail reasons carry their own)."""
    error.message_zh = message_zh
    return error


def normalise_phone(text: str) -> str:
    """The 11-digit mobile number in ``text``; 422 naming ``phone`` when it is not one."""
    digits = _SEPARATORS.sub("", text)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    if not MOBILE.fullmatch(digits):
        raise _zh(ValidationFailed("invalid phone number", [ErrorDetail(
            "phone", "not a mainland mobile number (11 digits starting with 13–19)",
            "请输入正确的 11 位手机号码")]), "手机号码格式不正确")
    return digits


def mask_phone(phone: str) -> str:
    """A phone as shown back: 138****8000."""
    return phone[:3] + "****" + phone[-4:]


def derive_key(secret: str) -> bytes:
    """The key of this module's hashes, derived from the service secret (never the secret itself)."""
    return hmac.new(secret.encode(), b"gridgov-notification-phone-codes", hashlib.sha256).digest()


def phone_key(key: bytes, phone: str) -> str:
    """The keyed hash a phone is counted and matched by."""
    return hmac.new(key, b"phone:" + phone.encode(), hashlib.sha256).hexdigest()


def code_hash(key: bytes, request_id: str, code: str) -> str:
    """The keyed hash of a code, bound to its request (the same code of another request hashes differently)."""
    return hmac.new(key, f"code:{request_id}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    """A uniformly random six-digit code."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_matches(key: bytes, request_id: str, code: str, stored: str) -> bool:
    """Whether ``code`` is the request's code (constant time)."""
    return hmac.compare_digest(code_hash(key, request_id, code), stored)


def sms_text(code: str, ttl_s: int) -> str:
    """The text message carrying the code."""
    return f"【一网统管】您的验证码是 {code}，{max(1, ttl_s // 60)} 分钟内有效。如非本人操作，请忽略本短信。"


def _wait(times: Sequence[datetime], now: datetime, limit: int, window: timedelta) -> int | None:
    """Seconds until one more request fits ``limit`` per sliding ``window`` (None: it fits now)."""
    inside = sorted(t for t in times if now - t < window)
    if len(inside) < limit:
        return None
    frees_at = inside[len(inside) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def check_rate(*, now: datetime, phone_times: Sequence[datetime], client_times: Sequence[datetime],
               all_times: Sequence[datetime], resend_after: timedelta, phone_limit: int, client_limit: int,
               window: timedelta, global_per_minute: int) -> None:
    """429 naming ``phone``, ``client_id`` or ``channel`` when one more code now would break a limit: one code per
    phone per ``resend_after``, ``phone_limit`` per phone and ``client_limit`` per client in ``window``, and
    ``global_per_minute`` for everyone together (the SMS bill's ceiling)."""
    checks = (
        ("phone", _wait(phone_times, now, 1, resend_after),
         f"a code was sent to this phone less than {int(resend_after.total_seconds())}s ago",
         "验证码已发送，请稍后再获取"),
        ("phone", _wait(phone_times, now, phone_limit, window),
         f"at most {phone_limit} codes per phone in {int(window.total_seconds())}s",
         "该手机号获取验证码过于频繁，请稍后再试"),
        ("client_id", _wait(client_times, now, client_limit, window),
         f"at most {client_limit} codes per client in {int(window.total_seconds())}s",
         "本设备获取验证码过于频繁，请稍后再试"),
        ("channel", _wait(all_times, now, global_per_minute, timedelta(minutes=1)),
         f"at most {global_per_minute} codes per minute for everyone", "短信验证码发送繁忙，请稍后再试"),
    )
    for field_name, wait, reason, reason_zh in checks:
        if wait is not None:
            error = RateLimited(field_name, reason, wait)
            error.details[0].reason_zh = f"{reason_zh}（{wait} 秒后可重试）"
            error.message_zh = "请求过于频繁"
            raise error


def check_open(*, confirmed_at: datetime | None, attempts: int, max_attempts: int, expires_at: datetime,
               now: datetime) -> None:
    """409 when the code was used or the request is locked, 410 when it expired."""
    if confirmed_at is not None:
        raise _zh(Conflict("this code has been used", [ErrorDetail(
            "code", "already confirmed: a code confirms once", "该验证码已使用，请重新获取")], "code_used"),
            "验证码已使用")
    if attempts >= max_attempts:
        raise locked(max_attempts)
    if now >= expires_at:
        raise _zh(Gone("this code has expired", [ErrorDetail("code", "expired", "验证码已过期，请重新获取")]),
                  "验证码已过期")


def locked(max_attempts: int) -> Conflict:
    """The refusal of a request locked after ``max_attempts`` wrong codes."""
    return _zh(Conflict(f"locked after {max_attempts} wrong codes", [ErrorDetail(
        "code", f"{max_attempts} wrong codes: this request is locked; ask for a new code",
        f"验证码错误已达 {max_attempts} 次，本次验证码已作废，请重新获取")], "code_locked"), "验证码已锁定")


def wrong_code(attempts: int, max_attempts: int) -> ValidationFailed | Conflict:
    """The refusal of a wrong code, after ``attempts`` wrong ones: 422 with the tries left, or locked (409)."""
    left = max_attempts - attempts
    if left <= 0:
        return locked(max_attempts)
    return _zh(ValidationFailed("wrong code", [ErrorDetail(
        "code", f"wrong code; {left} tries left", f"验证码错误，还可尝试 {left} 次")]), "验证码错误")


def wrong_phone() -> ValidationFailed:
    """The refusal of a confirmation naming another phone than the one the code went to."""
    return _zh(ValidationFailed("the phone is not the one the code was sent to", [ErrorDetail(
        "phone", "not the phone this code was sent to", "手机号与接收验证码的手机号不一致")]), "手机号不一致")
