import asyncio

import pytest

from gridgov_common.errors import NotFound, PayloadTooLarge, ValidationFailed
from gridgov_console.gateway.service import body_limit, forwarded_headers, read_bounded, target_url

SERVICES = {"dispatch": "http://127.0.0.1:8003/"}


def test_target_url_joins_service_and_path():
    assert target_url(SERVICES, "dispatch", "v1/tickets/abc/claim") == "http://127.0.0.1:8003/v1/tickets/abc/claim"


def test_target_url_quotes_decoded_path():
    assert target_url(SERVICES, "dispatch", "v1/tickets/a b?c") == "http://127.0.0.1:8003/v1/tickets/a%20b%3Fc"


def test_target_url_unknown_service_not_found():
    with pytest.raises(NotFound):
        target_url(SERVICES, "billing", "v1/x")


def test_target_url_climbing_out_refused():
    with pytest.raises(ValidationFailed):
        target_url(SERVICES, "dispatch", "v1/../../etc/passwd")


def test_forward_only_service_headers():
    kept = forwarded_headers({"Authorization": "Bearer x", "Cookie": "session=1", "If-None-Match": '"e"',
                              "Host": "console"})
    assert kept == {"Authorization": "Bearer x", "If-None-Match": '"e"'}


def test_body_limit_larger_only_for_photo_uploads_and_the_device_import():
    assert body_limit("intake", "v1/media", 1024, 8192) == 8192
    assert body_limit("sensing", "v1/devices/import", 1024, 8192) == 8192
    assert body_limit("intake", "v1/reports/patrol", 1024, 8192) == 1024
    assert body_limit("dispatch", "v1/media", 1024, 8192) == 1024
    assert body_limit("sensing", "v1/alarms", 1024, 8192) == 1024


class Chunks:
    """A request body arriving in chunks; counts how many the reader pulled."""

    def __init__(self, count: int, size: int):
        self.count, self.size, self.pulled = count, size, 0

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        if self.pulled == self.count:
            raise StopAsyncIteration
        self.pulled += 1
        return b"x" * self.size


def test_read_bounded_refuses_declared_length_over_limit_before_reading():
    chunks = Chunks(100, 1024)
    with pytest.raises(PayloadTooLarge):
        asyncio.run(read_bounded(chunks, str(100 * 1024), 4096))
    assert chunks.pulled == 0


def test_read_bounded_stops_reading_undeclared_body_at_limit():
    chunks = Chunks(10_000, 1024)  # 10 MB, chunked: no length declared
    with pytest.raises(PayloadTooLarge) as caught:
        asyncio.run(read_bounded(chunks, None, 4096))
    assert chunks.pulled == 5  # the fifth KiB passes 4 KiB: nothing more is read
    assert caught.value.details[0].field == "body"


def test_read_bounded_returns_body_within_limit():
    assert asyncio.run(read_bounded(Chunks(4, 1024), "4096", 4096)) == b"x" * 4096
