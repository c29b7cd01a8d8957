"""The DomainError family and the one table that maps each error to an HTTP status.

Domain code raises these; views never build an HTTPException by hand. Every body has the shape
``{"error": {"code", "message", "details": [{"field", "reason"}]}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ErrorDetail:
    """One offending field and why it was refused."""

    field: str
    reason: str
    # Chinese for clients that ask for it (Accept-Language: zh); None: gridgov_common.i18n's table decides.
    reason_zh: str | None = None


@dataclass
class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    message: str
    details: list[ErrorDetail] = field(default_factory=list)
    code: str = "domain_error"
    # Chinese for clients that ask for it (Accept-Language: zh); None: gridgov_common.i18n's table decides.
    message_zh: str | None = None

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict[str, Any]:
        """The JSON error body: English, or Chinese texts when the current request asked for them."""
        body = {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": [{"field": d.field, "reason": d.reason} for d in self.details],
            }
        }
        from gridgov_common import i18n  # late: i18n reads the facts these classes carry

        return i18n.localise_domain_body(self, body) if i18n.REQUEST_WANTS_ZH.get() else body


class ValidationFailed(DomainError):
    """Input that parses but breaks a rule (unknown category, out-of-range value)."""

    def __init__(self, message: str, details: list[ErrorDetail] | None = None):
        super().__init__(message, details or [], "validation_failed")


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know it exists)."""

    def __init__(self, what: str, ident: str):
        super().__init__(f"{what} {ident} not found", [ErrorDetail(what, "not found")], "not_found")
        self.what = what
        self.ident = ident


class Unauthenticated(DomainError):
    """No bearer token, or one that is invalid or expired."""

    def __init__(self, reason: str):
        super().__init__("authentication required", [ErrorDetail("Authorization", reason)], "unauthenticated")


class Forbidden(DomainError):
    """The caller's role, department or grid may not do this."""

    def __init__(self, reason: str, field_name: str = "role"):
        super().__init__("forbidden", [ErrorDetail(field_name, reason)], "forbidden")


class Conflict(DomainError):
    """The state changed under the caller (a concurrent claim, a stale version)."""

    def __init__(self, message: str, details: list[ErrorDetail] | None = None, code: str = "conflict"):
        super().__init__(message, details or [], code)


class IllegalTransition(Conflict):
    """A ticket action that its current state does not allow; names the allowed actions."""

    def __init__(self, state: str, action: str, allowed: list[str]):
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"cannot {action} a ticket in state {state}; allowed: {allowed_text}",
            [ErrorDetail("action", f"not allowed in state {state}; allowed: {allowed_text}")],
            "illegal_transition",
        )
        self.allowed = allowed
        self.state = state
        self.action = action


class Gone(DomainError):
    """The thing existed but may no longer be used (an expired follow-up link): 410."""

    def __init__(self, message: str, details: list[ErrorDetail] | None = None):
        super().__init__(message, details or [], "gone")


class Unavailable(DomainError):
    """A dependency (database, bus) cannot be reached right now."""

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message, [], "unavailable")
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        """The Retry-After header: a client retries after the dependency had time to come back."""
        return {"Retry-After": str(self.retry_after)}


class PayloadTooLarge(DomainError):
    """An upload over the size limit (413)."""

    def __init__(self, field_name: str, limit: int):
        super().__init__("payload too large", [ErrorDetail(field_name, f"larger than {limit} bytes")],
                         "payload_too_large")


class UnsupportedMediaType(DomainError):
    """An upload whose content is not of an accepted type (415); judged by content, not by name."""

    def __init__(self, field_name: str, reason: str):
        super().__init__("unsupported media type", [ErrorDetail(field_name, reason)], "unsupported_media_type")


class RateLimited(DomainError):
    """Too many requests from one device or phone (429); ``retry_after`` seconds go in Retry-After."""

    def __init__(self, field_name: str, reason: str, retry_after: int):
        super().__init__("rate limited", [ErrorDetail(field_name, reason)], "rate_limited")
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        """The Retry-After header."""
        return {"Retry-After": str(self.retry_after)}


# The one exception -> HTTP status table (most specific class first).
STATUS_CODES: list[tuple[type[DomainError], int]] = [
    (IllegalTransition, 409),
    (Conflict, 409),
    (ValidationFailed, 422),
    (NotFound, 404),
    (Gone, 410),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (Unavailable, 503),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (RateLimited, 429),
    (DomainError, 400),
]


def status_for(exc: DomainError) -> int:
    """The HTTP status of a domain error, from the one table."""
    for cls, status in STATUS_CODES:
        if isinstance(exc, cls):
            return status
    return 400
