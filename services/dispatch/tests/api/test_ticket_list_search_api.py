"""The ticket list searched and ordered by dispatch (the command centre's 工单列表 over a city's whole past)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from gridgov_common.periods import CHINA_TIME
from gridgov_dispatch.tickets.models import Ticket

from .conftest import Stack
from .test_tickets_api import drive_to


def listed(stack: Stack, **params) -> list[str]:
    """The ids the command centre's list answers, in its order (every page of 2, so paging is exercised)."""
    ids, offset = [], 0
    while True:
        resp = stack.client.get("/v1/tickets", params={**params, "limit": 2, "offset": offset},
                                headers=stack.token("command_centre"))
        assert resp.status_code == 200, resp.text
        page = resp.json()
        ids += [t["id"] for t in page["items"]]
        offset += 2
        if offset >= page["total"]:
            assert len(ids) == page["total"]
            return ids


def test_search_finds_a_piece_of_the_id_or_of_the_description_literally(any_stack):
    stack = any_stack
    pipe = stack.ticket_for(description="自来水管破裂，路面冒水")
    lamp = stack.ticket_for(category="01002", description="Street LAMP 100% dark at 5_th road")
    other = stack.ticket_for(description="井盖缺失")
    assert listed(stack, q=pipe["id"][-8:]) == [pipe["id"]]  # the short number the console shows
    assert listed(stack, q=pipe["id"][-8:].upper()) == [pipe["id"]]
    assert listed(stack, q=other["id"]) == [other["id"]]
    assert listed(stack, q="路面") == [pipe["id"]]
    assert listed(stack, q="street lamp") == [lamp["id"]]  # any case
    assert listed(stack, q="100%") == [lamp["id"]]
    assert listed(stack, q="%") == [lamp["id"]]  # a plain character, not "anything"
    assert listed(stack, q="5_th") == [lamp["id"]]
    assert listed(stack, q="5xth") == []  # _ is not "any one character" either
    assert listed(stack, q="  ") == listed(stack)  # blank: no search
    # with the other filters, and inside the caller's scope
    assert listed(stack, q="井盖", state="dispatched") == [other["id"]]
    water = stack.client.get("/v1/tickets", params={"q": "lamp"},
                             headers=stack.token("dept_dispatcher", department="water")).json()
    assert water["total"] == 0  # the lamp's ticket is urban management's


def test_orders_oldest_newest_and_by_deadline_open_first(any_stack):
    stack = any_stack
    made = [stack.ticket_for()["id"] for _ in range(4)]
    drive_to(stack, made[0], "claim", "handle", "verify", "close")
    with stack.runtime.db.session() as session:  # deadlines set apart: made[3] the most urgent, made[2] none
        now = datetime.now(UTC)
        for tid, due in ((made[1], now + timedelta(hours=5)), (made[2], None), (made[3], now - timedelta(hours=1))):
            row = session.exec(select(Ticket).where(Ticket.id == tid)).one()
            row.deadline = due
            session.add(row)
        session.commit()
    assert listed(stack) == made
    assert listed(stack, order="oldest") == made
    assert listed(stack, order="newest") == made[::-1]
    assert listed(stack, order="deadline") == [made[3], made[1], made[2], made[0]]
    assert listed(stack, order="deadline", open="true") == [made[3], made[1], made[2]]
    assert listed(stack, order="newest", open="true") == [made[3], made[2], made[1]]


def test_filters_by_channel_category_class_and_the_day_it_was_registered(any_stack):
    stack = any_stack
    pipe = stack.ticket_for(category="04002")
    call = stack.ticket_for(category="04004", channel="hotline")
    litter = stack.ticket_for(category="01002", channel="hotline")
    with stack.runtime.db.session() as session:  # registered on 2026-11-30 at 23:30 China time (15:30 UTC)
        row = session.exec(select(Ticket).where(Ticket.id == litter["id"])).one()
        row.created_at = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
        session.add(row)
        session.commit()
    assert listed(stack, channel="hotline") == [litter["id"], call["id"]]
    assert listed(stack, channel="patrol") == [pipe["id"]]
    assert listed(stack, channel="iot") == []
    assert listed(stack, category="04002") == [pipe["id"]]
    assert listed(stack, category="04") == [pipe["id"], call["id"]]  # the class and every code under it
    assert listed(stack, category="04", channel="hotline") == [call["id"]]
    assert listed(stack, created="2026-11-30") == [litter["id"]]  # a China-time day, not a UTC one
    assert listed(stack, created="2026-12-01") == []
    assert listed(stack, created="2026-11") == [litter["id"]]
    assert listed(stack, created="2026-11-01..2026-11-29") == []
    today = datetime.now(UTC).astimezone(CHINA_TIME).date().isoformat()
    assert set(listed(stack, created=today)) <= {pipe["id"], call["id"]}  # near midnight some are of yesterday
    assert listed(stack, created="2026-11", q="路面", order="newest") == [litter["id"]]


@pytest.mark.parametrize("params, field", [
    ({"q": "路面\x00"}, "q"),
    ({"q": "a\x07b"}, "q"),
    ({"q": "长" * 101}, "q"),
    ({"order": "urgent"}, "order"),
    ({"order": "deadline\x00"}, "order"),
    ({"channel": "fax"}, "channel"),
    ({"category": "4"}, "category"),
    ({"category": "04a"}, "category"),
    ({"category": "0" * 10}, "category"),
    ({"created": "2026-13"}, "created"),
    ({"created": "2026-11-30..2026-11-01"}, "created"),
    ({"created": "9999-01-01"}, "created"),
    ({"created": "0001-01"}, "created"),
    ({"created": "yesterday"}, "created"),
    ({"created": "2026-11\x00"}, "created"),
    ({"created": "2026-11-01.." + "9" * 40}, "created"),
])
def test_a_bad_search_or_order_is_refused_naming_it_in_chinese(any_stack, params, field):
    stack = any_stack
    resp = stack.client.get("/v1/tickets", params=params,
                            headers={**stack.token("command_centre"), "Accept-Language": "zh-CN"})
    assert resp.status_code == 422, resp.text
    detail = resp.json()["error"]["details"][0]
    assert detail["field"] == field, detail
    assert any("\u4e00" <= ch <= "\u9fff" for ch in detail["reason"]), detail


def test_nobody_and_a_citizen_cannot_search_the_list(stack):
    assert stack.client.get("/v1/tickets", params={"q": "路面"}).status_code == 401
    assert stack.client.get("/v1/tickets", params={"q": "路面"}, headers=stack.token("citizen")).status_code == 403
