"""Rate-limit arithmetic and the caller's address, pure (issue #11)."""

from datetime import UTC, datetime, timedelta

import pytest

from gridgov_event_intake.reports.ratelimit import client_address, retry_after, retry_after_amount

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_retry_after_counts_only_the_window():
    recent = [NOW - timedelta(seconds=s) for s in (10, 20, 700)]
    assert retry_after(recent, NOW, 3, timedelta(seconds=600)) is None
    assert retry_after(recent[:2] + [NOW - timedelta(seconds=30)], NOW, 3, timedelta(seconds=600)) == 570


def test_retry_after_amount_waits_until_enough_bytes_leave():
    recent = [(NOW - timedelta(hours=20), 600), (NOW - timedelta(hours=2), 300)]
    assert retry_after_amount(recent, NOW, 1000, DAY, 100) is None
    assert retry_after_amount(recent, NOW, 1000, DAY, 200) == 4 * 3600  # when the 600 of 20 h ago leave
    assert retry_after_amount(recent, NOW, 1000, DAY, 2000) == 86400  # more than the whole quota


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    ("203.0.113.7", None, [], "203.0.113.7"),
    ("203.0.113.7", "192.0.2.1", [], "203.0.113.7"),  # an untrusted peer's header is not believed
    ("10.0.0.5", "192.0.2.1", ["10.0.0.0/8"], "192.0.2.1"),
    ("10.0.0.5", "192.0.2.66, 198.51.100.2, 10.0.0.9", ["10.0.0.0/8"], "198.51.100.2"),  # nearest untrusted hop
    ("10.0.0.5", "not-an-ip", ["10.0.0.0/8"], "10.0.0.5"),
    ("10.0.0.5", "10.0.0.7", ["10.0.0.0/8"], "10.0.0.7"),  # only proxies: the first hop
    ("::1", "2001:db8::1", ["::1"], "2001:db8::1"),
    ("testclient", "192.0.2.1", ["10.0.0.0/8", "bad entry"], "testclient"),
    (None, "192.0.2.1", ["10.0.0.0/8"], None),
])
def test_client_address_believes_forwarded_for_only_from_trusted_proxies(peer, forwarded, trusted, expected):
    assert client_address(peer, forwarded, trusted) == expected
