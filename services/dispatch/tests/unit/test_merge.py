from datetime import UTC, datetime, timedelta

from gridgov_dispatch.tickets.merge import MergePolicy, OpenCase, decide

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
POLICY = MergePolicy(max_distance_m=50, window=timedelta(hours=2))
# 0.0003° of latitude ≈ 33 m; 0.0006° ≈ 67 m
NEAR = OpenCase("near", "04002", 113.75, 23.0203, NOW - timedelta(minutes=30))
NEARER = OpenCase("nearer", "04002", 113.75, 23.0201, NOW - timedelta(minutes=90))
FAR = OpenCase("far", "04002", 113.75, 23.0206, NOW - timedelta(minutes=5))
OTHER_CATEGORY = OpenCase("other", "01002", 113.75, 23.02, NOW - timedelta(minutes=5))
OLD = OpenCase("old", "04002", 113.75, 23.02, NOW - timedelta(hours=3))


def test_decide_merge_picks_nearest_open_ticket_and_says_why():
    decision = decide("04002", 113.75, 23.02, NOW, [NEAR, NEARER, FAR], POLICY)
    assert decision.ticket_id == "nearer"
    assert 10 < decision.distance_m < 12 and decision.minutes == 90.0


def test_decide_merge_ignores_other_category_far_and_old_tickets():
    assert decide("04002", 113.75, 23.02, NOW, [FAR, OTHER_CATEGORY, OLD], POLICY) is None


def test_decide_merge_never_for_report_without_coordinates():
    assert decide("04002", None, None, NOW, [NEAR], POLICY) is None


def test_decide_merge_off_when_distance_is_zero():
    assert decide("04002", 113.75, 23.0203, NOW, [NEAR], MergePolicy(0, timedelta(hours=2))) is None


def test_decide_merge_counts_window_both_ways():
    later = OpenCase("later", "04002", 113.75, 23.02, NOW + timedelta(minutes=3))
    assert decide("04002", 113.75, 23.02, NOW, [later], POLICY).minutes == 3.0
