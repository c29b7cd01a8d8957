"""E-mail over SMTP (smtplib): UTF-8 Chinese subject and body, optional STARTTLS and login."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from gridgov_common.db import Database
from gridgov_notification.channels.base import (
    OutgoingDelivery,
    PermanentDeliveryError,
    TransientDeliveryError,
    register,
)
from gridgov_notification.settings import NotificationSettings


def build_message(delivery: OutgoingDelivery, sender: str) -> EmailMessage:
    """The e-mail of a delivery; the default policy encodes the Chinese subject as RFC 2047 UTF-8."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.target
    message["Subject"] = delivery.subject
    message["Date"] = format_datetime(delivery.created_at)
    message["Message-ID"] = make_msgid(idstring=delivery.id)
    message["X-Gridgov-Delivery"] = delivery.id
    message.set_content(delivery.body, charset="utf-8")
    return message


class EmailChannel:
    """Sends each delivery over its own SMTP connection, with the per-delivery timeout."""

    name = "email"

    def __init__(self, settings: NotificationSettings):
        self.settings = settings

    def send(self, delivery: OutgoingDelivery) -> None:
        """Send one e-mail; 5xx replies are permanent, 4xx replies and network errors transient."""
        s = self.settings
        message = build_message(delivery, s.smtp_sender)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.delivery_timeout_s) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            error = f"recipient refused: {exc.recipients}"
            raise (PermanentDeliveryError if all(c >= 500 for c in codes) else TransientDeliveryError)(error) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentDeliveryError(f"SMTP login refused: {exc.smtp_code}") from exc
        except smtplib.SMTPResponseException as exc:
            error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            raise (PermanentDeliveryError if exc.smtp_code >= 500 else TransientDeliveryError)(error) from exc
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts and refused connections
            raise TransientDeliveryError(f"SMTP unavailable: {type(exc).__name__}: {exc}") from exc


@register("email")
def _email(settings: NotificationSettings, _db: Database) -> EmailChannel:
    return EmailChannel(settings)
