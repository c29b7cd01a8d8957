"""Which deliveries a ticket event gives rise to, rendered and scheduled. Pure: no database, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from gridgov_common.events.tickets import TicketEvent
from gridgov_common.ids import new_id
from gridgov_notification import subscriptions
from gridgov_notification.deliveries.models import PENDING, SENT
from gridgov_notification.deliveries.policy import QuietHours, first_attempt_at, is_urgent
from gridgov_notification.subscriptions import Notice
from gridgov_notification.templates import TemplateBook

INBOX = "inbox"
SUBJECT_MAX = 300
BODY_MAX = 4000


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """A delivery row to insert (the ``delivery`` table's columns but the lease): a plain value, not an ORM
    object, because a batch plans thousands and building ORM objects was a seventh of the consumer's CPU."""

    id: str
    event_id: str
    event_type: str
    ticket_id: str
    report_id: str
    address: str
    channel: str
    target: str
    contact_id: str | None
    template: str
    subject: str
    body: str
    urgent: bool
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None = None

    def row(self) -> dict:
        """The row's columns, for a Core INSERT."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True)
class Contact:
    """An active contact point, as planning needs it."""

    id: str
    address: str
    channel: str
    target: str


def render_context(event_type: str, event: TicketEvent, notice: Notice) -> dict[str, str]:
    """The values a template may use (see templates.PLACEHOLDERS)."""
    return {
        "title": notice.title, "body": notice.body, "ticket_id": event.ticket_id, "report_id": event.report_id,
        "event_type": event_type, "category": subscriptions.category_label(event.category_code),
        "place": subscriptions.place_label(event), "deadline": subscriptions.format_deadline(event.deadline),
        "note": event.note or "", "department": event.department or "", "priority": event.priority or "",
        "address": notice.recipient,
    }


def plan(event_id: str, event_type: str, event: TicketEvent, notices: list[Notice], contacts: Iterable[Contact],
         templates: TemplateBook, now: datetime, quiet: QuietHours | None) -> list[PlannedDelivery]:
    """One inbox delivery per notice (sent: the inbox files it in this transaction) and one pending delivery
    per active contact point of the notice's address (sent later by the worker, after quiet hours if need be)."""
    by_address: dict[str, list[Contact]] = {}
    for contact in contacts:
        by_address.setdefault(contact.address, []).append(contact)
    urgent = is_urgent(event_type, event)
    out: list[PlannedDelivery] = []
    for notice in notices:
        context = render_context(event_type, event, notice)
        targets = [(INBOX, notice.recipient, None)] + [
            (c.channel, c.target, c.id) for c in by_address.get(notice.recipient, [])]
        for channel, target, contact_id in targets:
            template = templates.get(event_type, channel)
            subject, body = template.render(context)
            inbox = channel == INBOX
            out.append(PlannedDelivery(
                id=new_id(), event_id=event_id, event_type=event_type, ticket_id=event.ticket_id,
                report_id=event.report_id, address=notice.recipient, channel=channel, target=target,
                contact_id=contact_id, template=template.name, subject=_clip(subject, SUBJECT_MAX),
                body=_clip(body, BODY_MAX), urgent=urgent, status=SENT if inbox else PENDING,
                attempts=1 if inbox else 0, next_attempt_at=first_attempt_at(now, channel, urgent, quiet),
                created_at=now, sent_at=now if inbox else None,
            ))
    return out


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
