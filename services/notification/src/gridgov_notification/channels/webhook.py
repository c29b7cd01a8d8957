"""Webhooks: a signed JSON POST to a contact point's URL.

Request: ``POST <target>`` with ``Content-Type: application/json; charset=utf-8``,
``X-Gridgov-Delivery: <delivery id>`` (the same id on every retry: receivers deduplicate with it),
``X-Gridgov-Event: <event type>`` and ``X-Gridgov-Signature: sha256=<hex HMAC-SHA256 of the raw body with the
contact point's secret>``. Body: ``{"delivery_id", "event_id", "event_type", "ticket_id", "report_id",
"address", "subject", "body", "created_at"}``. Any 2xx is success; 5xx, 408, 429 and network errors or timeouts
are retried; other 4xx answers are permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from gridgov_common.db import Database
from gridgov_notification.channels.base import (
    OutgoingDelivery,
    PermanentDeliveryError,
    post,
    register,
)
from gridgov_notification.settings import NotificationSettings

SIGNATURE_HEADER = "X-Gridgov-Signature"
DELIVERY_HEADER = "X-Gridgov-Delivery"
EVENT_HEADER = "X-Gridgov-Event"


def sign(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether a signature header matches the body (constant-time; for receivers and tests)."""
    return hmac.compare_digest(sign(secret, body), signature)


def payload(delivery: OutgoingDelivery) -> bytes:
    """The JSON body of a webhook delivery (UTF-8, Chinese kept readable)."""
    return json.dumps({
        "delivery_id": delivery.id, "event_id": delivery.event_id, "event_type": delivery.event_type,
        "ticket_id": delivery.ticket_id, "report_id": delivery.report_id, "address": delivery.address,
        "subject": delivery.subject, "body": delivery.body, "created_at": delivery.created_at.isoformat(),
    }, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookChannel:
    """POSTs signed JSON; one shared connection pool, a timeout on every request."""

    name = "webhook"

    def __init__(self, timeout_s: float):
        self.client = httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False,
                                   limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))

    def send(self, delivery: OutgoingDelivery) -> None:
        """POST the delivery; classify the outcome as sent, transient or permanent."""
        if not delivery.secret:
            raise PermanentDeliveryError("webhook contact point has no secret")
        body = payload(delivery)
        headers = {"Content-Type": "application/json; charset=utf-8", DELIVERY_HEADER: delivery.id,
                   EVENT_HEADER: delivery.event_type, SIGNATURE_HEADER: sign(delivery.secret, body)}
        post(self.client, delivery.target, "webhook", content=body, headers=headers)

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()


@register("webhook")
def _webhook(settings: NotificationSettings, _db: Database) -> WebhookChannel:
    return WebhookChannel(settings.delivery_timeout_s)
