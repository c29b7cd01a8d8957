"""notification's runtime: the shared one, plus the delivery worker beside the outbox relay."""

from __future__ import annotations

from dataclasses import dataclass

from gridgov_common.runtime import ServiceRuntime
from gridgov_notification.channels import Channel
from gridgov_notification.deliveries.handlers import TicketEventNotifier
from gridgov_notification.deliveries.policy import RetryPolicy
from gridgov_notification.deliveries.worker import DeliveryWorker
from gridgov_notification.phones.handlers import PhoneCodes
from gridgov_notification.settings import NotificationSettings


@dataclass(kw_only=True)
class NotificationRuntime(ServiceRuntime):
    """Starts the delivery worker after the relay and consumers; stops it first."""

    notifier: TicketEventNotifier
    channels: dict[str, Channel]
    phones: PhoneCodes | None = None  # the citizen's phone confirmation (SMS codes)
    worker: DeliveryWorker | None = None

    def start(self, ensure_topics_timeout: float = 120.0) -> None:
        """Start the shared runtime, then the delivery worker if the settings ask for it."""
        super().start(ensure_topics_timeout)
        settings = self.settings
        assert isinstance(settings, NotificationSettings)
        if settings.run_delivery_worker:
            self.worker = DeliveryWorker(
                self.db, self.channels,
                RetryPolicy(settings.delivery_max_attempts, settings.delivery_backoff_base_s,
                            settings.delivery_backoff_cap_s),
                concurrency=settings.delivery_concurrency, per_target=settings.delivery_per_target_concurrency,
                lease_s=settings.delivery_lease_s, poll_interval_s=settings.delivery_poll_interval_s,
                batch=settings.delivery_batch, wake=self.notifier.wake)
            self.worker.start()

    def stop(self) -> None:
        """Stop the worker (sends in flight finish), then the shared runtime; close the channels."""
        if self.worker:
            self.worker.stop()
            self.worker.join(timeout=30)
        for channel in self.channels.values():
            close = getattr(channel, "close", None)
            if callable(close):
                close()
        super().stop()
