"""The page's language reaches the services, so their errors come back in Chinese (issue #13, item 6)."""

from gridgov_console.gateway.service import forwarded_headers


def test_forward_passes_accept_language_to_the_services():
    kept = forwarded_headers({"Authorization": "Bearer x", "Accept-Language": "zh-CN", "Cookie": "s=1"})
    assert kept == {"Authorization": "Bearer x", "Accept-Language": "zh-CN"}
