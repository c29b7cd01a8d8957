"""Whether a contact point's target fits its channel. Pure."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from gridgov_common.errors import ErrorDetail

EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
PHONE = re.compile(r"^\+?[0-9]{6,20}$")  # E.164 or a mainland number: digits only


def problems(channel: str, target: str, secret: str | None) -> list[ErrorDetail]:
    """What is wrong with a contact point (empty when it is fine)."""
    found: list[ErrorDetail] = []
    if channel == "webhook":
        url = urlsplit(target)
        if url.scheme not in ("http", "https") or not url.hostname:
            found.append(ErrorDetail("target", "a webhook target must be an http(s) URL"))
        if not secret:
            found.append(ErrorDetail("secret", "a webhook needs a secret to sign its deliveries"))
    elif channel == "email" and not EMAIL.match(target):
        found.append(ErrorDetail("target", "not an e-mail address"))
    elif channel == "sms" and not PHONE.match(target):
        found.append(ErrorDetail("target", "not a phone number (digits, optionally a leading +)"))
    if channel != "webhook" and secret:
        found.append(ErrorDetail("secret", f"only webhooks take a secret, not {channel}"))
    return found
