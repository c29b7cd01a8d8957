import hashlib
import hmac
import json
from datetime import UTC, datetime

from gridgov_notification.channels.base import OutgoingDelivery
from gridgov_notification.channels.webhook import payload, sign, verify

SECRET = "s3cret-key-for-webhooks"


def delivery(**change) -> OutgoingDelivery:
    base = dict(id="D-1", event_id="E-1", event_type="ticket.dispatched", ticket_id="T-1", address="department:water",
                channel="webhook", target="http://127.0.0.1/hook", subject="新工单待签收", body="工单 T-1 已派遣",
                created_at=datetime(2024, 5, 1, 1, 0, tzinfo=UTC), report_id="R-1", secret=SECRET)
    return OutgoingDelivery(**{**base, **change})


def test_sign_body_matches_hmac_sha256_hex():
    body = b'{"a":1}'
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(SECRET, body) == f"sha256={expected}"


def test_verify_signature_rejects_tampered_body_and_wrong_secret():
    body = payload(delivery())
    signature = sign(SECRET, body)
    assert verify(SECRET, body, signature)
    assert not verify(SECRET, body.replace(b"T-1", b"T-2"), signature)
    assert not verify("another-secret-entirely", body, signature)


def test_payload_keeps_chinese_readable_and_names_the_delivery():
    data = payload(delivery())
    assert "新工单待签收".encode() in data  # UTF-8, not \\u escapes
    parsed = json.loads(data)
    assert parsed["delivery_id"] == "D-1" and parsed["event_id"] == "E-1" and parsed["ticket_id"] == "T-1"
    assert "secret" not in parsed and SECRET not in data.decode()
