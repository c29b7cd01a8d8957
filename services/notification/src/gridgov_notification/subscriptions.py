"""Who hears about a ticket event, and what they are told (订阅规则). Pure: an event in, notices out.

The rules are channel-agnostic: each ``Notice`` names a recipient address and a Chinese title and body;
every delivery channel (the in-app inbox now; webhook, email, SMS later) delivers the same notices its way.

==================  ======================  =======================  ===================================
event type          condition               recipient                why
==================  ======================  =======================  ===================================
ticket.registered   no department yet       role:command_centre      待分拨: the command centre triages
ticket.dispatched   department set          department:<dept>        待签收: the department claims it
ticket.dispatched   no department (a bug)   role:command_centre      someone must see the stray ticket
ticket.handled      grid known              grid:<grid_code>         待核查: a grid worker verifies
ticket.handled      no grid (unlocated)     role:command_centre      nobody else can verify it
ticket.closed       always                  user:<reporter_id>       已办结: every reporter is told
                                            (and each merged reporter;
                                            not a device: video_ai, iot)
ticket.returned     always                  role:command_centre      退单: the command centre rules on it
ticket.return_ruled department set          department:<dept>        re-dispatched: claim it
ticket.extension_   always                  role:command_centre      延期申请: the command centre decides
  requested
ticket.extension_   department set          department:<dept>        the department learns the decision
  approved/refused
ticket.supervised   department set          department:<dept>        督办 (urgent)
ticket.reopened     department set          department:<dept>        返工: the reporter was not satisfied
ticket.warned       department set          department:<dept>        预警: the deadline is close
ticket.escalated    always                  department:<dept> and    超期升级 (urgent)
                                            role:command_centre
(departmental rows without a department go to role:command_centre)
anything else (claimed, verified, suspended, …)  nobody
==================  ======================  =======================  ===================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from gridgov_common.categories import CategoryBook, seed_book
from gridgov_common.events.reports import SENSING_CHANNELS
from gridgov_common.events.tickets import TicketEvent

# China Standard Time has no daylight saving: a fixed offset needs no tz database.
CHINA_TIME = timezone(timedelta(hours=8), "CST")
COMMAND_CENTRE = "role:command_centre"
NOTE_MAX = 500

TICKET_REGISTERED = "ticket.registered"
TICKET_DISPATCHED = "ticket.dispatched"
TICKET_HANDLED = "ticket.handled"
TICKET_CLOSED = "ticket.closed"
TICKET_RETURNED = "ticket.returned"
TICKET_RETURN_RULED = "ticket.return_ruled"
TICKET_EXTENSION_REQUESTED = "ticket.extension_requested"
TICKET_EXTENSION_APPROVED = "ticket.extension_approved"
TICKET_EXTENSION_REFUSED = "ticket.extension_refused"
TICKET_SUPERVISED = "ticket.supervised"
TICKET_REOPENED = "ticket.reopened"
TICKET_WARNED = "ticket.warned"
TICKET_ESCALATED = "ticket.escalated"


@dataclass(frozen=True)
class Notice:
    """One thing to tell one recipient address (``department:water``, ``user:<sub>``, ``grid:<code>``, …)."""

    recipient: str
    title: str
    body: str


def department_address(department: str) -> str:
    """The inbox address of a department (入格部门)."""
    return f"department:{department}"


def grid_address(grid_code: str) -> str:
    """The inbox address of a grid's workers (网格员)."""
    return f"grid:{grid_code}"


def user_address(sub: str) -> str:
    """The inbox address of one person (a reporter, a dispatcher)."""
    return f"user:{sub}"


# The catalog version the event being handled is named from (set by ``naming_from``). A context variable, so
# the rules keep their one-argument form and each consumer thread sees only its own event's book.
_NAMES: ContextVar[CategoryBook | None] = ContextVar("gridgov_notification_names", default=None)


@contextmanager
def naming_from(book: CategoryBook) -> Iterator[CategoryBook]:
    """Within this block, ``category_label`` names categories from ``book`` (the learned version in effect)."""
    token = _NAMES.set(book)
    try:
        yield book
    finally:
        _NAMES.reset(token)


def category_label(code: str) -> str:
    """``暴露垃圾（01002）`` for a known code, the bare code otherwise.

    Named from the book of ``naming_from`` (the highest learned catalog version), else the packaged first one.
    """
    category = (_NAMES.get() or seed_book()).get(code)
    return f"{category.name_zh}（{code}）" if category else code


def format_deadline(deadline: datetime | None) -> str:
    """A deadline in China time, ``2024-05-01 17:00``, or ``未设定`` when there is none."""
    if deadline is None:
        return "未设定"
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)
    return deadline.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def place_label(event: TicketEvent) -> str:
    """Where the ticket is, ``镇街 …，村(社区) …，网格 …``, or ``位置未定``."""
    parts = [f"{label} {code}" for label, code in
             (("镇街", event.town_code), ("村(社区)", event.village_code), ("网格", event.grid_code)) if code]
    return "，".join(parts) if parts else "位置未定"


def _note(event: TicketEvent) -> str:
    if not event.note:
        return ""
    note = event.note if len(event.note) <= NOTE_MAX else event.note[:NOTE_MAX] + "…"
    return f"说明：{note}"


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


def _registered(event: TicketEvent) -> list[Notice]:
    if event.department:
        return []  # routed at once; the dispatched event tells the department
    return [Notice(
        COMMAND_CENTRE,
        f"新案件待分拨：{category_label(event.category_code)}",
        _lines(f"工单 {event.ticket_id} 已立案，未匹配到责任部门，请指挥中心分拨。",
               f"类别：{category_label(event.category_code)}",
               f"位置：{place_label(event)}",
               _note(event)),
    )]


def _dispatched(event: TicketEvent) -> list[Notice]:
    if not event.department:
        return [Notice(COMMAND_CENTRE, f"派遣缺少责任部门：{category_label(event.category_code)}",
                       f"工单 {event.ticket_id} 已派遣但未指定部门，请指挥中心核实。")]
    return [Notice(
        department_address(event.department),
        f"新工单待签收：{category_label(event.category_code)}",
        _lines(f"工单 {event.ticket_id} 已派遣至贵部门，请及时签收并处置。",
               f"类别：{category_label(event.category_code)}",
               f"位置：{place_label(event)}",
               f"办结时限：{format_deadline(event.deadline)}",
               _note(event)),
    )]


def _handled(event: TicketEvent) -> list[Notice]:
    recipient = grid_address(event.grid_code) if event.grid_code else COMMAND_CENTRE
    by = f"{event.department} 部门" if event.department else "责任部门"
    return [Notice(
        recipient,
        f"处置完毕待核查：{category_label(event.category_code)}",
        _lines(f"工单 {event.ticket_id} 已由{by}处置完毕，请到现场核查（待核查）。",
               f"类别：{category_label(event.category_code)}",
               f"位置：{place_label(event)}",
               _note(event)),
    )]


def _closed(event: TicketEvent) -> list[Notice]:
    # Every reporter hears the outcome: the one the ticket was made from and those merged into it (并案). A ticket
    # a device raised (issue #16) has no inbox of its own to tell; people merged into it are still told.
    own = () if event.channel in SENSING_CHANNELS else (event.reporter_id,)
    return [Notice(
        user_address(reporter),
        "您反映的问题已办结",
        _lines(f"您反映的“{category_label(event.category_code)}”问题（工单 {event.ticket_id}）已办结，"
               "感谢您对城市治理的支持。",
               _note(event)),
    ) for reporter in dict.fromkeys((*own, *event.merged_reporter_ids))]


def _ticket_lines(event: TicketEvent, first: str) -> str:
    return _lines(first, f"类别：{category_label(event.category_code)}", f"位置：{place_label(event)}",
                  f"办结时限：{format_deadline(event.deadline)}", _note(event))


def _to_department(headline: str, first: str) -> Callable[[TicketEvent], list[Notice]]:
    """A rule telling the ticket's department (the command centre when it has none)."""

    def rule(event: TicketEvent) -> list[Notice]:
        recipient = department_address(event.department) if event.department else COMMAND_CENTRE
        return [Notice(recipient, f"{headline}：{category_label(event.category_code)}",
                       _ticket_lines(event, first.format(ticket_id=event.ticket_id)))]

    return rule


def _to_command_centre(headline: str, first: str) -> Callable[[TicketEvent], list[Notice]]:
    """A rule telling the command centre (指挥中心)."""

    def rule(event: TicketEvent) -> list[Notice]:
        by = event.department or "责任部门"
        return [Notice(COMMAND_CENTRE, f"{headline}：{category_label(event.category_code)}",
                       _ticket_lines(event, first.format(ticket_id=event.ticket_id, by=by)))]

    return rule


def _escalated(event: TicketEvent) -> list[Notice]:
    level = {1: "村(社区)", 2: "镇街", 3: "市"}.get(event.escalation_level, "上级")
    first = f"工单 {event.ticket_id} 已超期，升级至{level}督办，请立即处置。"
    notices = [Notice(COMMAND_CENTRE, f"超期升级：{category_label(event.category_code)}", _ticket_lines(event, first))]
    if event.department:
        notices.insert(0, Notice(department_address(event.department),
                                 f"超期升级：{category_label(event.category_code)}", _ticket_lines(event, first)))
    return notices


RULES: dict[str, Callable[[TicketEvent], list[Notice]]] = {
    TICKET_REGISTERED: _registered,
    TICKET_DISPATCHED: _dispatched,
    TICKET_HANDLED: _handled,
    TICKET_CLOSED: _closed,
    TICKET_RETURNED: _to_command_centre("退单待裁定", "工单 {ticket_id} 被 {by} 退回，请指挥中心裁定。"),
    TICKET_RETURN_RULED: _to_department("退单裁定后重新派遣",
                                        "工单 {ticket_id} 经指挥中心裁定派遣至贵部门，请及时签收并处置。"),
    TICKET_EXTENSION_REQUESTED: _to_command_centre("延期申请待审批",
                                                   "{by} 申请延长工单 {ticket_id} 的办理时限，请审批。"),
    TICKET_EXTENSION_APPROVED: _to_department("延期申请已批准", "工单 {ticket_id} 的延期申请已批准，请按新时限办结。"),
    TICKET_EXTENSION_REFUSED: _to_department("延期申请未批准", "工单 {ticket_id} 的延期申请未获批准，请按原时限办结。"),
    TICKET_SUPERVISED: _to_department("督办", "指挥中心对工单 {ticket_id} 进行督办，请加快处置。"),
    TICKET_REOPENED: _to_department("回访不满意需返工", "工单 {ticket_id} 回访不满意，已退回贵部门重新处置。"),
    TICKET_WARNED: _to_department("即将超期预警", "工单 {ticket_id} 即将超期，请抓紧处置。"),
    TICKET_ESCALATED: _escalated,
}


def is_subscribed(event_type: str) -> bool:
    """Whether any rule listens to this envelope type (others are skipped without parsing the payload)."""
    return event_type in RULES


def notices_for(event_type: str, event: TicketEvent) -> list[Notice]:
    """The notices a ticket event gives rise to: at most one per recipient, none for unlisted types."""
    rule = RULES.get(event_type)
    if rule is None:
        return []
    unique: dict[str, Notice] = {}
    for notice in rule(event):
        unique.setdefault(notice.recipient, notice)
    return list(unique.values())
