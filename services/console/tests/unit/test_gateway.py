import pytest

from gridgov_common.errors import NotFound, ValidationFailed
from gridgov_console.gateway.service import forwarded_headers, target_url

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
