from datetime import UTC, datetime

import pytest

from gridgov_common.categories import Category, CategoryBook
from gridgov_common.events.tickets import TicketEvent
from gridgov_notification.subscriptions import format_deadline, is_subscribed, naming_from, notices_for

NOW = datetime(2024, 5, 1, 1, 0, tzinfo=UTC)


def ticket_event(**change) -> TicketEvent:
    base = dict(
        ticket_id="T-1", report_id="R-1", action="dispatch", from_state="registered", to_state="dispatched",
        category_code="04002", department="water", grid_code="441900001001001", village_code="441900001001",
        town_code="441900001", reporter_id="worker-7", deadline=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
        actor_id="rules", actor_role="system", note=None, occurred_at=NOW,
    )
    return TicketEvent(**{**base, **change})


def test_notices_for_dispatched_go_to_department_with_code_and_deadline():
    [notice] = notices_for("ticket.dispatched", ticket_event())
    assert notice.recipient == "department:water"
    assert notice.title.startswith("新工单待签收")
    assert "04002" in notice.title and "自来水管破裂" in notice.title
    assert "2024-05-01 17:00" in notice.body  # 09:00 UTC is 17:00 China time
    assert "T-1" in notice.body and "441900001001001" in notice.body


def test_notices_for_handled_go_to_grid_for_verification():
    [notice] = notices_for("ticket.handled", ticket_event(action="handle", to_state="handled",
                                                          note="已更换破裂管段"))
    assert notice.recipient == "grid:441900001001001"
    assert "待核查" in notice.title and "现场核查" in notice.body
    assert "已更换破裂管段" in notice.body


def test_notices_for_handled_without_grid_go_to_command_centre():
    [notice] = notices_for("ticket.handled", ticket_event(action="handle", grid_code=None))
    assert notice.recipient == "role:command_centre"


def test_notices_for_closed_go_to_reporter():
    [notice] = notices_for("ticket.closed", ticket_event(action="close", to_state="closed",
                                                         reporter_id="citizen-42"))
    assert notice.recipient == "user:citizen-42"
    assert notice.title == "您反映的问题已办结"
    assert "已办结" in notice.body and "T-1" in notice.body


def test_notices_for_closed_reach_every_merged_reporter_once():
    notices = notices_for("ticket.closed", ticket_event(
        action="close", to_state="closed", reporter_id="hotline-caller", merged_report_ids=["R-2", "R-3", "R-4"],
        merged_reporter_ids=["wx-citizen", "gw-9", "wx-citizen"]))
    # One citizen who reported twice hears it once; everyone who reported hears it.
    assert [n.recipient for n in notices] == ["user:hotline-caller", "user:wx-citizen", "user:gw-9"]
    assert all(n.title == "您反映的问题已办结" for n in notices)


def test_notices_for_registered_without_department_go_to_command_centre():
    [notice] = notices_for("ticket.registered", ticket_event(action="register", from_state=None,
                                                             to_state="registered", department=None))
    assert notice.recipient == "role:command_centre"
    assert "待分拨" in notice.title


def test_notices_for_registered_with_department_go_to_nobody():
    assert notices_for("ticket.registered", ticket_event(action="register", to_state="registered")) == []


def test_notices_for_dispatched_without_department_alert_command_centre():
    [notice] = notices_for("ticket.dispatched", ticket_event(department=None))
    assert notice.recipient == "role:command_centre"


@pytest.mark.parametrize("event_type", ["ticket.claimed", "ticket.verified", "ticket.reworked",
                                        "ticket.suspended", "ticket.resumed", "ticket.some_future_action",
                                        "report.received", ""])
def test_notices_for_unlisted_type_go_to_nobody(event_type):
    assert notices_for(event_type, ticket_event()) == []
    assert not is_subscribed(event_type)


def test_notices_for_returned_ask_command_centre_to_rule():
    [notice] = notices_for("ticket.returned", ticket_event(action="return", note="不属于本部门职责"))
    assert notice.recipient == "role:command_centre"
    assert "退单待裁定" in notice.title and "water" in notice.body and "不属于本部门职责" in notice.body


@pytest.mark.parametrize(("event_type", "words"), [
    ("ticket.return_ruled", "重新派遣"), ("ticket.extension_approved", "已批准"),
    ("ticket.extension_refused", "未批准"), ("ticket.supervised", "督办"), ("ticket.reopened", "返工"),
    ("ticket.warned", "预警"),
])
def test_notices_for_departmental_events_go_to_department(event_type, words):
    [notice] = notices_for(event_type, ticket_event())
    assert notice.recipient == "department:water"
    assert words in notice.title and "T-1" in notice.body


def test_notices_for_departmental_event_without_department_go_to_command_centre():
    [notice] = notices_for("ticket.supervised", ticket_event(department=None))
    assert notice.recipient == "role:command_centre"


def test_notices_for_escalated_reach_department_and_command_centre():
    notices = notices_for("ticket.escalated", ticket_event(action="escalate", escalation_level=2))
    assert [n.recipient for n in notices] == ["department:water", "role:command_centre"]
    assert all("超期升级" in n.title and "镇街" in n.body for n in notices)


def test_notices_for_extension_request_go_to_command_centre():
    [notice] = notices_for("ticket.extension_requested", ticket_event(action="request_extension"))
    assert notice.recipient == "role:command_centre" and "延期申请待审批" in notice.title


def test_notices_for_unknown_category_show_the_bare_code():
    [notice] = notices_for("ticket.dispatched", ticket_event(category_code="99999"))
    assert "99999" in notice.title


def test_notices_for_long_note_are_truncated():
    [notice] = notices_for("ticket.handled", ticket_event(note="修" * 3000))
    assert len(notice.body) < 2000 and notice.body.endswith("…")


def test_format_deadline_without_deadline_says_unset():
    assert format_deadline(None) == "未设定"


def test_format_deadline_naive_is_taken_as_utc():
    assert format_deadline(datetime(2024, 12, 31, 20, 30)) == "2025-01-01 04:30"


def test_notices_for_name_category_from_learned_book_and_from_seed_outside_it():
    event = ticket_event(category_code="30001")
    [seeded] = notices_for("ticket.dispatched", event)
    assert seeded.title == "新工单待签收：30001"  # the packaged first version does not list it
    with naming_from(CategoryBook(2, (Category("30001", "共享单车乱停放", "Shared bikes"),))):
        [learned] = notices_for("ticket.dispatched", event)
    assert learned.title == "新工单待签收：共享单车乱停放（30001）"
    [after] = notices_for("ticket.dispatched", event)
    assert after.title == "新工单待签收：30001"  # the book applies only inside its block


@pytest.mark.parametrize("channel", ["video_ai", "iot"])
def test_notices_for_closed_device_ticket_tell_only_merged_reporters(channel):
    # Issue #16: a device has no inbox; a citizen merged into its ticket hears the outcome.
    event = ticket_event(action="close", to_state="closed", reporter_id="IOT-gas-3", channel=channel)
    assert notices_for("ticket.closed", event) == []
    merged = event.model_copy(update={"merged_report_ids": ["R-2"], "merged_reporter_ids": ["wx-9"]})
    assert [n.recipient for n in notices_for("ticket.closed", merged)] == ["user:wx-9"]
