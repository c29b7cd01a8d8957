"""The sender interface every delivery channel implements, and the registry that finds them by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import httpx
from sqlmodel import Session

if TYPE_CHECKING:
    from gridgov_common.db import Database
    from gridgov_notification.settings import NotificationSettings


class DeliveryError(Exception):
    """A send that did not go through."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: a timeout, a refused connection, a 5xx answer."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help (a 4xx answer, a rejected address): dead-lettered at once."""


# 4xx answers that mean "not now" rather than "never".
RETRYABLE_4XX = frozenset({408, 425, 429})


def post(client: httpx.Client, url: str, what: str, **request: Any) -> None:
    """POST for a channel, turning the outcome into the delivery's verdict: return when sent, raise
    TransientDeliveryError (timeouts, network errors, 5xx, 408/425/429) or PermanentDeliveryError (other 4xx)."""
    try:
        resp = client.post(url, **request)
    except httpx.TimeoutException as exc:
        raise TransientDeliveryError(f"{what} timeout: {type(exc).__name__}") from exc
    except httpx.TransportError as exc:
        raise TransientDeliveryError(f"{what} unreachable: {type(exc).__name__}: {exc}") from exc
    if resp.is_success:
        return
    reason = f"{what} HTTP {resp.status_code}: {resp.text[:200]}"
    if resp.status_code >= 500 or resp.status_code in RETRYABLE_4XX:
        raise TransientDeliveryError(reason)
    raise PermanentDeliveryError(reason)


@dataclass(frozen=True)
class OutgoingDelivery:
    """One message to one target on one channel, as a channel sends it."""

    id: str
    event_id: str
    event_type: str
    ticket_id: str
    address: str  # who: "department:water", "user:u1", …
    channel: str
    target: str  # how to reach them on the channel: URL, e-mail address, phone number, inbox address
    subject: str
    body: str
    created_at: datetime
    report_id: str = ""
    secret: str | None = field(default=None, repr=False)  # the webhook's HMAC key


class Channel(Protocol):
    """A way of reaching people. ``send`` returns when the message is accepted, or raises a DeliveryError."""

    name: str

    def send(self, delivery: OutgoingDelivery) -> None:
        """Send one delivery; raise TransientDeliveryError (retry) or PermanentDeliveryError (dead at once)."""
        ...


@runtime_checkable
class TransactionalChannel(Protocol):
    """A channel that writes into notification's own database, in the consumer's transaction.

    Such a send cannot half-fail or repeat (it commits with the handled-message record), so it needs no
    worker, retry or quiet hours: the inbox.
    """

    name: str

    def send_in(self, session: Session, delivery: OutgoingDelivery) -> None:
        """Stage the delivery in ``session``; it is sent when the session commits."""
        ...


ChannelFactory = Callable[["NotificationSettings", "Database"], Channel]
_REGISTRY: dict[str, ChannelFactory] = {}


def register(name: str) -> Callable[[ChannelFactory], ChannelFactory]:
    """Register a channel factory under ``name`` (a plug-in: ``@register("webhook")``)."""

    def decorate(factory: ChannelFactory) -> ChannelFactory:
        _REGISTRY[name] = factory
        return factory

    return decorate


def registered() -> list[str]:
    """The names of every registered channel."""
    return sorted(_REGISTRY)


def build_channels(settings: NotificationSettings, db: Database) -> dict[str, Channel]:
    """One instance of every registered channel, by name."""
    return {name: factory(settings, db) for name, factory in _REGISTRY.items()}
