"""SMS through a provider: a file for the embedded stack, or an HTTP gateway.

HTTP gateway request: ``POST <sms_gateway_url>`` with ``Content-Type: application/json`` and, when
``sms_gateway_token`` is set, ``Authorization: Bearer <token>``; body ``{"id": "<delivery id>", "to":
"<phone>", "text": "<message>"}`` (``id`` is stable across retries, so the gateway can deduplicate).
Any 2xx is accepted; 5xx, 408, 429 and timeouts are retried; other 4xx answers are permanent.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from gridgov_common.db import Database
from gridgov_notification.channels.base import (
    OutgoingDelivery,
    TransientDeliveryError,
    post,
    register,
)
from gridgov_notification.settings import NotificationSettings


class SmsProvider(Protocol):
    """Hands one text message to a carrier; raises a DeliveryError when it cannot."""

    def send_sms(self, message_id: str, phone: str, text: str) -> None:
        """Send ``text`` to ``phone``."""
        ...


class FileSmsProvider:
    """Appends one JSON line per message to a file: the embedded stack's SMS carrier."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def send_sms(self, message_id: str, phone: str, text: str) -> None:
        """Append ``{"id", "to", "text", "at"}`` to the log."""
        line = json.dumps({"id": message_id, "to": phone, "text": text, "at": datetime.now(UTC).isoformat()},
                          ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:
            raise TransientDeliveryError(f"cannot write {self.path}: {exc}") from exc


class HttpSmsProvider:
    """Posts each message to an SMS gateway (the request shape is in this module's docstring)."""

    def __init__(self, url: str, token: str | None, timeout_s: float):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(timeout=httpx.Timeout(timeout_s))

    def send_sms(self, message_id: str, phone: str, text: str) -> None:
        """POST ``{"id", "to", "text"}`` to the gateway."""
        post(self.client, self.url, "SMS gateway", json={"id": message_id, "to": phone, "text": text},
             headers=self.headers)


class SmsChannel:
    """Sends a delivery's body (SMS has no subject) through the configured provider."""

    name = "sms"

    def __init__(self, provider: SmsProvider):
        self.provider = provider

    def send(self, delivery: OutgoingDelivery) -> None:
        """Send the body as one text message."""
        self.provider.send_sms(delivery.id, delivery.target, delivery.body)


def provider_for(settings: NotificationSettings) -> SmsProvider:
    """The provider the settings name."""
    if settings.sms_provider == "http":
        if not settings.sms_gateway_url:
            raise ValueError("GRIDGOV_NOTIFICATION_SMS_GATEWAY_URL is required with sms_provider=http")
        return HttpSmsProvider(settings.sms_gateway_url, settings.sms_gateway_token, settings.delivery_timeout_s)
    return FileSmsProvider(Path(settings.common.data_dir) / "sms.log")


@register("sms")
def _sms(settings: NotificationSettings, _db: Database) -> SmsChannel:
    return SmsChannel(provider_for(settings))
