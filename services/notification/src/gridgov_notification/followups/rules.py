"""Who is followed up (回访) and how, and who may answer. Pure: values in, values out, no database, no clock.

Every reporter of a closed ticket (the one it was made from and each merged into it) gets one follow-up. A
citizen, grid worker or Open311 reporter is asked in their own inbox (``user:<reporter id>``) and through their
contact points; a 12345 hotline caller (``hotline:<order no>``) has no inbox, so the follow-up goes to the
command centre as a call-back to do (回访待办), and an operator records the caller's answer. A ticket a device raised
(channels ``video_ai`` and ``iot``, issue #16) has nobody of its own to ask: only the people whose reports were merged
into it are followed up.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridgov_common.errors import Conflict, ErrorDetail, Forbidden, Gone, Unauthenticated
from gridgov_common.events.feedback import REPORTER, operator
from gridgov_common.events.reports import SENSING_CHANNELS
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.ids import new_id
from gridgov_notification.subscriptions import (
    COMMAND_CENTRE,
    Notice,
    category_label,
    format_deadline,
    user_address,
)

HOTLINE_PREFIX = "hotline:"
OPEN311_PREFIX = "open311:"
OPERATOR_ROLE = "command_centre"
FOLLOWUP_REQUESTED = "followup.requested"  # the event type of the notices (templates fall back to the default)
TOKEN_BYTES = 24  # secrets.token_urlsafe(24): 32 characters, 192 bits
NOTE_MAX = 2000


@dataclass(frozen=True)
class FollowupDraft:
    """A follow-up to create: one reporter of one closed ticket."""

    id: str
    token: str
    reporter_id: str
    report_id: str
    channel: str | None
    expires_at: datetime


def new_token() -> str:
    """An unguessable follow-up token (the reporter's only credential)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_hotline(reporter_id: str) -> bool:
    """Whether the reporter is a 12345 caller (no inbox: an operator calls back)."""
    return reporter_id.startswith(HOTLINE_PREFIX)


def expiry(now: datetime, days: int) -> datetime:
    """When a follow-up made now stops taking answers."""
    return now + timedelta(days=days)


def is_expired(expires_at: datetime, now: datetime) -> bool:
    """Whether the follow-up has expired (at ``expires_at`` exactly it has)."""
    return now >= expires_at


def reporters(event: TicketEvent) -> list[tuple[str, str]]:
    """(reporter id, their report id) of every person who reported the ticket, the ticket's own first, each once;
    a device's own report (a sensing channel) is nobody's to rate."""
    merged = list(zip(event.merged_reporter_ids, event.merged_report_ids, strict=False))
    own = [] if event.channel in SENSING_CHANNELS else [(event.reporter_id, event.report_id)]
    out: dict[str, str] = {}
    for reporter_id, report_id in [*own, *merged]:
        out.setdefault(reporter_id, report_id)
    return list(out.items())


def channel_of(reporter_id: str, event: TicketEvent) -> str | None:
    """The reporter's intake channel: the ticket's for its own reporter, else what the id says (None: unknown)."""
    if is_hotline(reporter_id):
        return "hotline"
    if reporter_id.startswith(OPEN311_PREFIX):
        return "open311"
    return event.channel if reporter_id == event.reporter_id else None


def drafts_for(event: TicketEvent, now: datetime, days: int, skip: Collection[str] = (),
               token: Callable[[], str] = new_token) -> list[FollowupDraft]:
    """One follow-up per reporter of a closed ticket, except those in ``skip`` (already asked for this event)."""
    return [FollowupDraft(id=new_id(), token=token(), reporter_id=reporter_id, report_id=report_id,
                          channel=channel_of(reporter_id, event), expires_at=expiry(now, days))
            for reporter_id, report_id in reporters(event) if reporter_id not in skip]


def link(base: str, token: str) -> str:
    """The follow-up's address: the console's follow-up page ``/followups/{token}`` (回访评价页, an HTML page with
    the rating form, which answers through ``/v1/followups/{token}``) under the public base URL."""
    return f"{base.rstrip('/')}/followups/{token}"


def notice_for(draft: FollowupDraft, event: TicketEvent, url: str) -> Notice:
    """The notice asking for the answer: to the reporter's inbox, or to the command centre for a hotline call-back."""
    category = category_label(event.category_code)
    if is_hotline(draft.reporter_id):
        order_no = draft.reporter_id.removeprefix(HOTLINE_PREFIX)
        return Notice(COMMAND_CENTRE, f"回访待办：{category}", "\n".join((
            f"12345 工单 {order_no} 反映的问题（工单 {event.ticket_id}）已办结，请回访来电人，"
            "记录是否解决及满意度（1–5 分）。",
            f"回访登记：{url}",
            f"回访截止：{format_deadline(draft.expires_at)}",
        )))
    return Notice(user_address(draft.reporter_id), "请评价办理结果", "\n".join((
        f"您反映的“{category}”问题（工单 {event.ticket_id}）已办结，请告诉我们问题是否解决、您是否满意。",
        f"评价链接：{url}",
        f"评价截止：{format_deadline(draft.expires_at)}",
    )))


def answered_by(reporter_id: str, role: str | None, sub: str | None) -> str:
    """Who answers: the reporter (no login needed) or, for a hotline call-back, the operator who recorded it.

    A hotline follow-up needs a command-centre login (401 without one, 403 with another role); a command-centre
    login may not answer anyone else's follow-up (403): a rating is the reporter's own.
    """
    if is_hotline(reporter_id):
        if role is None or sub is None:
            raise Unauthenticated("a hotline follow-up is recorded by a 12345 operator: log in as command_centre")
        if role != OPERATOR_ROLE:
            raise Forbidden(f"role {role} may not record a hotline call-back; allowed: {OPERATOR_ROLE}")
        return operator(sub)
    if role == OPERATOR_ROLE:
        raise Forbidden("operators record hotline call-backs only; this follow-up is the reporter's to answer")
    return REPORTER


def check_answerable(answered_at: datetime | None, expires_at: datetime, now: datetime) -> None:
    """409 if already answered (answer once), 410 if expired."""
    if answered_at is not None:
        raise Conflict("this follow-up has already been answered",
                       [ErrorDetail("token", "answered already: a follow-up takes one answer")], "already_answered")
    if is_expired(expires_at, now):
        raise Gone("this follow-up has expired",
                   [ErrorDetail("token", f"expired at {format_deadline(expires_at)} (China time)")])
