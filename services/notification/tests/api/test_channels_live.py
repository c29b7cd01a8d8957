"""The e-mail and SMS channels against real local servers: SMTP with login, and an HTTP SMS gateway."""

import json
import threading
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gridgov_common.settings import CommonSettings
from gridgov_notification.channels import OutgoingDelivery, PermanentDeliveryError, TransientDeliveryError
from gridgov_notification.channels.email import EmailChannel
from gridgov_notification.channels.sms import HttpSmsProvider, SmsChannel
from gridgov_notification.settings import NotificationSettings

from .conftest import free_port

# The test server takes a password over plain TCP on 127.0.0.1; aiosmtpd warns about that, rightly elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def delivery(channel: str, target: str) -> OutgoingDelivery:
    return OutgoingDelivery(id="D-1", event_id="E-1", event_type="ticket.escalated", ticket_id="T-1",
                            address="department:water", channel=channel, target=target,
                            subject="【一网统管】紧急：工单超期升级 T-1", body="工单 T-1 已超期并升级，请立即处置。",
                            created_at=datetime(2024, 5, 1, 1, 0, tzinfo=UTC))


class _Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


def _authenticator(_server, _session, _envelope, _mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"gridgov", b"pa55")
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@pytest.fixture
def smtp_with_login():
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), authenticator=_authenticator,
                            auth_required=True, auth_require_tls=False, auth_exclude_mechanism=["LOGIN"])
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


def email_channel(port: int, password: str) -> EmailChannel:
    return EmailChannel(NotificationSettings(smtp_port=port, smtp_username="gridgov", smtp_password=password,
                                             smtp_sender="noreply@gridgov.example", delivery_timeout_s=5))


def test_send_email_logs_in_and_keeps_chinese_subject_and_body(smtp_with_login):
    port, mailbox = smtp_with_login
    email_channel(port, "pa55").send(delivery("email", "water@example.cn"))
    [message] = mailbox.messages
    assert message["Subject"] == "【一网统管】紧急：工单超期升级 T-1"
    assert message.get_content().strip() == "工单 T-1 已超期并升级，请立即处置。"
    assert message["X-Gridgov-Delivery"] == "D-1"


def test_send_email_with_wrong_password_is_permanent(smtp_with_login):
    port, mailbox = smtp_with_login
    with pytest.raises(PermanentDeliveryError, match="login refused"):
        email_channel(port, "wrong").send(delivery("email", "water@example.cn"))
    assert mailbox.messages == []


class _Gateway:
    def __init__(self, status: int):
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.requests.append({"json": json.loads(body), "auth": self.headers.get("Authorization")})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(("status", "error"), [(202, None), (503, TransientDeliveryError),
                                               (400, PermanentDeliveryError)])
def test_send_sms_through_http_gateway_posts_documented_shape(status, error):
    gateway = _Gateway(status)
    channel = SmsChannel(HttpSmsProvider(gateway.url, "gw-token", timeout_s=5))
    try:
        if error:
            with pytest.raises(error, match=str(status)):
                channel.send(delivery("sms", "+8613800138000"))
        else:
            channel.send(delivery("sms", "+8613800138000"))
    finally:
        gateway.close()
    [request] = gateway.requests
    assert request["json"] == {"id": "D-1", "to": "+8613800138000", "text": "工单 T-1 已超期并升级，请立即处置。"}
    assert request["auth"] == "Bearer gw-token"


def test_sms_provider_setting_http_without_url_fails_at_start(tmp_path):
    from gridgov_notification.channels.sms import provider_for

    with pytest.raises(ValueError, match="SMS_GATEWAY_URL"):
        provider_for(NotificationSettings(common=CommonSettings(data_dir=tmp_path), sms_provider="http"))
