"""Delivery channels (inbox, webhook, e-mail, SMS); importing the package registers them all."""

from gridgov_notification.channels import email, inbox, sms, webhook  # noqa: F401 - registers the channels
from gridgov_notification.channels.base import (
    Channel,
    OutgoingDelivery,
    PermanentDeliveryError,
    TransactionalChannel,
    TransientDeliveryError,
    build_channels,
    register,
    registered,
)

INBOX = "inbox"
EXTERNAL = ("webhook", "email", "sms")  # channels reached through a contact point

__all__ = ["EXTERNAL", "INBOX", "Channel", "OutgoingDelivery", "PermanentDeliveryError", "TransactionalChannel",
           "TransientDeliveryError", "build_channels", "register", "registered"]
