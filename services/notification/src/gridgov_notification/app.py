"""notification: tells people what their tickets need of them, in the inbox and on webhook, e-mail and SMS."""

from fastapi import FastAPI

from gridgov_common.auth import load_secret
from gridgov_common.db import Database
from gridgov_common.web import create_service_app
from gridgov_notification.catalog import models as _catalog_models  # noqa: F401 - registers the tables
from gridgov_notification.catalog.handlers import names_reader
from gridgov_notification.channels import INBOX, build_channels, registered
from gridgov_notification.channels.sms import provider_for
from gridgov_notification.consumers import consumer_specs
from gridgov_notification.contacts import models as _contact_models  # noqa: F401 - registers the tables
from gridgov_notification.contacts.views import router as contacts_router
from gridgov_notification.deliveries import models as _delivery_models  # noqa: F401 - registers the tables
from gridgov_notification.deliveries.handlers import TicketEventNotifier
from gridgov_notification.deliveries.policy import QuietHours
from gridgov_notification.deliveries.views import router as deliveries_router
from gridgov_notification.followups.handlers import FollowupPlanner  # its models register the followup table
from gridgov_notification.followups.views import router as followups_router
from gridgov_notification.inbox import models as _models  # noqa: F401 - registers the tables
from gridgov_notification.inbox.views import router as inbox_router
from gridgov_notification.phones import rules as phone_rules
from gridgov_notification.phones.handlers import PhoneCodes
from gridgov_notification.phones.views import router as phones_router
from gridgov_notification.runtime import NotificationRuntime
from gridgov_notification.settings import NotificationSettings
from gridgov_notification.tables import metadata
from gridgov_notification.templates import TemplateBook


def build_runtime(settings: NotificationSettings | None = None) -> NotificationRuntime:
    """The service runtime: its database, the bus, its consumer and the delivery worker."""
    settings = settings or NotificationSettings()
    # Checked before anything starts: a broken template stops the service with the template named.
    templates = TemplateBook.load(registered())
    db = Database(settings.resolved_database_url(), metadata, settings.service_name)
    channels = build_channels(settings, db)
    quiet = QuietHours(settings.quiet_hours_start, settings.quiet_hours_end, settings.quiet_hours_timezone) \
        if settings.quiet_hours_enabled else None
    names = names_reader(db)  # category names from the highest learned catalog version (cached)
    notifier = TicketEventNotifier(templates, channels[INBOX], quiet, names=names)
    followups = FollowupPlanner(templates, channels[INBOX], quiet, expiry_days=settings.followup_expiry_days,
                                link_base=settings.public_base_url, wake=notifier.wake, names=names)
    # Codes are hashed with a key derived from the shared secret, so a dump of the table alone reveals none.
    phones = PhoneCodes(db, provider_for(settings), phone_rules.derive_key(load_secret(settings.common)), settings)
    return NotificationRuntime(settings=settings, db=db, consumers=consumer_specs(db, notifier, followups),
                               migrations_package="gridgov_notification", notifier=notifier, channels=channels,
                               phones=phones)


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    """The notification API."""
    return create_service_app(
        title="gridgov notification",
        description="The inbox of every department, grid, reporter and the command centre; contact points and "
                    "deliveries on webhook, e-mail and SMS; the citizen's phone confirmation by SMS code.",
        runtime_factory=lambda: build_runtime(settings),
        routers=[inbox_router, contacts_router, deliveries_router, followups_router, phones_router],
    )
