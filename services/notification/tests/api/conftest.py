"""Real local endpoints for delivery tests: webhook receivers (HTTP servers in threads) and an SMTP server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from gridgov_notification.channels.webhook import verify
from tests.support.ports import free_port

WEBHOOK_SECRET = "webhook-secret-0123456789abcdef"


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1: ``ok`` verifies the signature, ``slow`` sleeps, ``error`` answers 500."""

    mode: str
    secret: str = WEBHOOK_SECRET
    delay_s: float = 3.0
    hits: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted(self) -> list[dict]:
        return [h for h in self.hits if h["valid"]]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            valid = verify(receiver.secret, body, self.headers.get("X-Gridgov-Signature", ""))
            receiver.hits.append({"valid": valid, "delivery": self.headers.get("X-Gridgov-Delivery"),
                                  "json": json.loads(body), "content_type": self.headers.get("Content-Type")})
            if receiver.mode == "slow":
                time.sleep(receiver.delay_s)
            status = {"ok": 204 if valid else 401, "slow": 200, "error": 500}[receiver.mode]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    return Handler


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    """Three webhook endpoints: one that works, one that times out, one that fails with 500."""
    made = {}
    for mode in ("ok", "slow", "error"):
        receiver = Receiver(mode)
        receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        receiver.server.daemon_threads = True
        threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
        made[mode] = receiver
    yield made
    for receiver in made.values():
        receiver.server.shutdown()
        receiver.server.server_close()


class _Mailbox:
    def __init__(self):
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content,
                                                                          policy=email_policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Mailbox]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 collecting the mail it receives."""
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()
