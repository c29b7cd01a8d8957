"""When a follow-up rating (回访) reopens a case, and the note it leaves. Pure."""

from datetime import UTC, datetime, timedelta

import pytest

from gridgov_common.events.feedback import FeedbackReceived
from gridgov_dispatch.feedback import rules

CLOSED = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def feedback(**kw) -> FeedbackReceived:
    values = dict(followup_id="F-1", ticket_id="T-1", report_id="R-1", reporter_id="wx-1", channel="citizen",
                  solved=False, satisfaction=1, comment=None, answered_at=CLOSED + timedelta(hours=1),
                  answered_by="reporter", closed_at=CLOSED)
    return FeedbackReceived(**{**values, **kw})


@pytest.mark.parametrize(("solved", "satisfaction", "bad"), [
    (False, 5, True), (True, 1, True), (True, 2, True), (True, 3, False), (True, 5, False)])
def test_judge_rating_bad_when_unsolved_or_at_most_threshold(solved, satisfaction, bad):
    assert rules.is_bad(solved, satisfaction, 2) is bad


def test_judge_rating_threshold_zero_reopens_only_unsolved():
    assert rules.is_bad(True, 1, 0) is False and rules.is_bad(False, 5, 0) is True


def test_reopen_closed_ticket_of_the_rated_closure():
    assert rules.why_not_reopen("closed", "water", CLOSED, CLOSED) is None
    assert rules.why_not_reopen("closed", "water", CLOSED, None) is None  # an older producer: no closure named


def test_leave_ticket_reopened_already_alone():
    assert "not closed" in rules.why_not_reopen("claimed", "water", None, CLOSED)


def test_leave_ticket_closed_again_since_the_rated_closure_alone():
    assert "earlier closure" in rules.why_not_reopen("closed", "water", CLOSED + timedelta(hours=3), CLOSED)


def test_leave_ticket_handled_on_the_spot_alone():
    assert "no department" in rules.why_not_reopen("closed", None, CLOSED, CLOSED)


def test_reopen_note_quotes_the_rating():
    note = rules.reopen_note(feedback(comment="还是没修好"))
    assert "未解决" in note and "满意度 1/5" in note and "“还是没修好”" in note and "F-1" in note
    operator = rules.reopen_note(feedback(solved=True, satisfaction=2, answered_by="operator:cc-1"))
    assert operator.startswith("12345 回访") and "已解决" in operator and "评价" not in operator
