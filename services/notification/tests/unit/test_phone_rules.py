"""Phone confirmation rules (issue #14), pure: numbers as people type them, keyed hashes, the rate limits."""

from datetime import UTC, datetime, timedelta

import pytest

from gridgov_common.errors import RateLimited, ValidationFailed
from gridgov_notification.phones import rules

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
KEY = rules.derive_key("a-test-secret")
LIMITS = dict(resend_after=timedelta(seconds=60), phone_limit=5, client_limit=10, window=timedelta(hours=1),
              global_per_minute=3)


@pytest.mark.parametrize("typed", ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "8613800138000"])
def test_normalise_phone_drops_country_code_spaces_and_dashes(typed):
    assert rules.normalise_phone(typed) == "13800138000"


@pytest.mark.parametrize("typed", ["1380013800", "23800138000", "+1 415 555 0100", "138001380001",
                                   "１３８００１３８０００"])
def test_normalise_phone_refuses_what_is_not_a_mainland_mobile(typed):
    with pytest.raises(ValidationFailed) as caught:
        rules.normalise_phone(typed)
    assert caught.value.details[0].field == "phone"


def test_code_hash_binds_code_to_its_request_and_key():
    assert rules.code_matches(KEY, "r1", "123456", rules.code_hash(KEY, "r1", "123456"))
    assert not rules.code_matches(KEY, "r2", "123456", rules.code_hash(KEY, "r1", "123456"))
    assert not rules.code_matches(rules.derive_key("another"), "r1", "123456", rules.code_hash(KEY, "r1", "123456"))


def test_new_code_is_six_digits():
    assert all(len(c) == 6 and c.isdigit() for c in (rules.new_code() for _ in range(200)))


def test_check_rate_refuses_everyone_past_the_global_ceiling_naming_channel():
    recent = [NOW - timedelta(seconds=s) for s in (5, 10, 20)]
    with pytest.raises(RateLimited) as caught:
        rules.check_rate(now=NOW, phone_times=[], client_times=[], all_times=recent, **LIMITS)
    assert caught.value.details[0].field == "channel" and caught.value.retry_after == 40


def test_check_rate_counts_only_inside_the_window():
    old = [NOW - timedelta(hours=2)] * 20
    rules.check_rate(now=NOW, phone_times=old, client_times=old, all_times=[], **LIMITS)


def test_wrong_code_counts_down_then_locks():
    assert rules.wrong_code(1, 3).details[0].reason == "wrong code; 2 tries left"
    assert rules.wrong_code(3, 3).code == "code_locked"
