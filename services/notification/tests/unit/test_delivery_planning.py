from datetime import UTC, datetime, time

from gridgov_common.events.tickets import TicketEvent
from gridgov_notification.channels import registered
from gridgov_notification.deliveries.planning import Contact, plan
from gridgov_notification.deliveries.policy import QuietHours
from gridgov_notification.subscriptions import notices_for
from gridgov_notification.templates import TemplateBook

BOOK = TemplateBook.load(registered())
QUIET = QuietHours(time(22, 0), time(7, 0), "Asia/Shanghai")
NIGHT = datetime(2024, 5, 1, 16, 0, tzinfo=UTC)  # 00:00 China time
DAY = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 China time
CONTACTS = [
    Contact("c1", "department:water", "webhook", "http://127.0.0.1:9/hook"),
    Contact("c2", "department:water", "sms", "13800138000"),
    Contact("c3", "department:roads", "email", "roads@example.cn"),
]


def event(**change) -> TicketEvent:
    base = dict(ticket_id="T-1", report_id="R-1", action="dispatch", from_state="registered", to_state="dispatched",
                category_code="04002", department="water", grid_code="441900001001001", village_code=None,
                town_code=None, reporter_id="u1", deadline=None, actor_id="rules", actor_role="system",
                occurred_at=DAY)
    return TicketEvent(**{**base, **change})


def planned(event_type: str, ev: TicketEvent, now: datetime):
    return plan("E-1", event_type, ev, notices_for(event_type, ev), CONTACTS, BOOK, now, QUIET)


def test_plan_reaches_inbox_and_every_contact_point_of_the_address():
    deliveries = planned("ticket.dispatched", event(), DAY)
    assert {(d.channel, d.target, d.status) for d in deliveries} == {
        ("inbox", "department:water", "sent"), ("webhook", "http://127.0.0.1:9/hook", "pending"),
        ("sms", "13800138000", "pending")}
    assert all(d.event_id == "E-1" and d.address == "department:water" for d in deliveries)
    [sms] = [d for d in deliveries if d.channel == "sms"]
    assert sms.template == "ticket.dispatched/sms" and "新工单待签收" in sms.body and sms.next_attempt_at == DAY


def test_plan_inbox_keeps_the_notice_text():
    ev = event()
    [notice] = notices_for("ticket.dispatched", ev)
    [inbox] = [d for d in planned("ticket.dispatched", ev, DAY) if d.channel == "inbox"]
    assert (inbox.subject, inbox.body) == (notice.title, notice.body)


def test_plan_at_night_defers_sms_but_not_inbox_or_webhook():
    by_channel = {d.channel: d for d in planned("ticket.dispatched", event(), NIGHT)}
    assert by_channel["sms"].next_attempt_at == datetime(2024, 5, 1, 23, 0, tzinfo=UTC)  # 07:00 China time
    assert by_channel["inbox"].next_attempt_at == NIGHT and by_channel["webhook"].next_attempt_at == NIGHT


def test_plan_at_night_sends_escalation_sms_at_once():
    deliveries = planned("ticket.escalated", event(action="escalate", escalation_level=3), NIGHT)
    [sms] = [d for d in deliveries if d.channel == "sms"]
    assert sms.urgent and sms.next_attempt_at == NIGHT and "紧急" in sms.body


def test_plan_without_contact_points_files_only_the_inbox():
    deliveries = planned("ticket.handled", event(action="handle"), DAY)
    assert [(d.channel, d.address) for d in deliveries] == [("inbox", "grid:441900001001001")]
