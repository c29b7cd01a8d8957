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
ticket.closed       always                  user:<reporter_id>       已办结: the reporter is told
anything else                               nobody
==================  ======================  =======================  ===================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from gridgov_common.categories import BY_CODE
from gridgov_common.events.tickets import TicketEvent

# China Standard Time has no daylight saving: a fixed offset needs no tz database.
CHINA_TIME = timezone(timedelta(hours=8), "CST")
COMMAND_CENTRE = "role:command_centre"
NOTE_MAX = 500

TICKET_REGISTERED = "ticket.registered"
TICKET_DISPATCHED = "ticket.dispatched"
TICKET_HANDLED = "ticket.handled"
TICKET_CLOSED = "ticket.closed"


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


def category_label(code: str) -> str:
    """``暴露垃圾（01002）`` for a known code, the bare code otherwise."""
    category = BY_CODE.get(code)
    return f"{category.name_zh}（{code}）" if category else code


def format_deadline(deadline: datetime | None) -> str:
    """A deadline in China time, ``2024-05-01 17:00``, or ``未设定`` when there is none."""
    if deadline is None:
        return "未设定"
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)
    return deadline.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def _place(event: TicketEvent) -> str:
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
               f"位置：{_place(event)}",
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
               f"位置：{_place(event)}",
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
               f"位置：{_place(event)}",
               _note(event)),
    )]


def _closed(event: TicketEvent) -> list[Notice]:
    return [Notice(
        user_address(event.reporter_id),
        "您反映的问题已办结",
        _lines(f"您反映的“{category_label(event.category_code)}”问题（工单 {event.ticket_id}）已办结，"
               "感谢您对城市治理的支持。",
               _note(event)),
    )]


RULES: dict[str, Callable[[TicketEvent], list[Notice]]] = {
    TICKET_REGISTERED: _registered,
    TICKET_DISPATCHED: _dispatched,
    TICKET_HANDLED: _handled,
    TICKET_CLOSED: _closed,
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
