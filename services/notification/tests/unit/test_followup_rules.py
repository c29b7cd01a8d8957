"""Follow-up rules (回访), pure: tokens, expiry, who is asked and where, who may answer."""

from datetime import UTC, datetime, timedelta

import pytest

from gridgov_common.errors import Conflict, Forbidden, Gone, Unauthenticated
from gridgov_common.events.tickets import TicketEvent
from gridgov_notification.followups import rules

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def closed(reporter_id="wx-1", merged=(), channel="citizen") -> TicketEvent:
    return TicketEvent(
        ticket_id="T-1", report_id="R-1", action="close", from_state="verified", to_state="closed",
        category_code="01002", department="urban", grid_code="441900001001001", village_code=None, town_code=None,
        reporter_id=reporter_id, deadline=None, actor_id="cc-1", actor_role="command_centre", note="已清理",
        occurred_at=NOW, merged_report_ids=[r for r, _ in merged], merged_reporter_ids=[p for _, p in merged],
        channel=channel)


def test_make_token_unguessable_and_new_each_time():
    tokens = {rules.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) >= 32 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_expire_followup_after_configured_days_exactly():
    expires = rules.expiry(NOW, 7)
    assert expires == NOW + timedelta(days=7)
    assert not rules.is_expired(expires, expires - timedelta(seconds=1))
    assert rules.is_expired(expires, expires)


def test_draft_followups_one_per_reporter_own_first_merged_after_each_once():
    event = closed(merged=[("R-2", "hotline:H-9"), ("R-3", "gw-5"), ("R-4", "wx-1")])
    drafts = rules.drafts_for(event, NOW, 7)
    assert [(d.reporter_id, d.report_id, d.channel) for d in drafts] == [
        ("wx-1", "R-1", "citizen"), ("hotline:H-9", "R-2", "hotline"), ("gw-5", "R-3", None)]
    assert len({d.token for d in drafts}) == len({d.id for d in drafts}) == 3
    assert {d.expires_at for d in drafts} == {NOW + timedelta(days=7)}


def test_draft_followups_skips_reporters_already_asked_for_the_event():
    event = closed(merged=[("R-2", "gw-5")])
    assert [d.reporter_id for d in rules.drafts_for(event, NOW, 7, skip={"wx-1"})] == ["gw-5"]
    assert rules.drafts_for(event, NOW, 7, skip={"wx-1", "gw-5"}) == []


def test_notice_citizen_followup_reaches_their_inbox_with_link():
    [draft] = rules.drafts_for(closed(), NOW, 7, token=lambda: "tok-1")
    notice = rules.notice_for(draft, closed(), rules.link("https://gov.example/", draft.token))
    assert notice.recipient == "user:wx-1" and notice.title == "请评价办理结果"
    assert "https://gov.example/followups/tok-1" in notice.body and "T-1" in notice.body


def test_notice_hotline_followup_goes_to_command_centre_as_callback_todo():
    event = closed(reporter_id="hotline:12345-0001", channel="hotline")
    [draft] = rules.drafts_for(event, NOW, 7, token=lambda: "tok-2")
    notice = rules.notice_for(draft, event, rules.link("https://gov.example", draft.token))
    assert notice.recipient == "role:command_centre" and notice.title.startswith("回访待办")
    assert "12345-0001" in notice.body and "https://gov.example/followups/tok-2" in notice.body


def test_answer_by_reporter_needs_no_login_and_operator_may_not_answer_for_them():
    assert rules.answered_by("wx-1", None, None) == "reporter"
    assert rules.answered_by("wx-1", "citizen", "wx-1") == "reporter"
    with pytest.raises(Forbidden):
        rules.answered_by("wx-1", "command_centre", "cc-1")


def test_answer_hotline_followup_only_by_command_centre_operator():
    assert rules.answered_by("hotline:H-1", "command_centre", "cc-7") == "operator:cc-7"
    with pytest.raises(Unauthenticated):
        rules.answered_by("hotline:H-1", None, None)
    with pytest.raises(Forbidden):
        rules.answered_by("hotline:H-1", "dept_dispatcher", "d-1")


def test_check_answerable_answered_conflicts_before_expired_gone():
    later = NOW + timedelta(days=8)
    with pytest.raises(Conflict):
        rules.check_answerable(NOW, NOW + timedelta(days=7), later)
    with pytest.raises(Gone):
        rules.check_answerable(None, NOW + timedelta(days=7), later)
    rules.check_answerable(None, NOW + timedelta(days=7), NOW)  # open and unanswered: fine


@pytest.mark.parametrize("channel", ["video_ai", "iot"])
def test_draft_followups_of_a_device_ticket_ask_only_people_merged_into_it(channel):
    # Issue #16: a camera or sensor raised the ticket; nobody of its own is asked, a merged citizen still is.
    assert rules.drafts_for(closed(reporter_id="44190000001320000001", channel=channel), NOW, 7) == []
    event = closed(reporter_id="44190000001320000001", channel=channel, merged=[("R-2", "wx-9")])
    assert [(d.reporter_id, d.report_id) for d in rules.drafts_for(event, NOW, 7)] == [("wx-9", "R-2")]
