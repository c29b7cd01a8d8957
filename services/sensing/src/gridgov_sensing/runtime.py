"""sensing's runtime: the shared one, plus the alarm types seeded at start, the grid-registry client that places
devices, and the MQTT subscriber when ``mqtt_url`` is set."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gridgov_common.auth import load_secret, mint_token
from gridgov_common.runtime import ServiceRuntime
from gridgov_sensing.devices.registry import RegistryClient
from gridgov_sensing.settings import SensingSettings
from gridgov_sensing.types.handlers import seed_alarm_types

log = logging.getLogger(__name__)


def registry_client(settings: SensingSettings) -> RegistryClient:
    """The client of grid-registry's lookup, with the configured token or one minted with the shared secret."""
    if settings.registry_token is not None:
        secret_token = settings.registry_token.get_secret_value()
        return RegistryClient(settings.registry_url, lambda: secret_token, settings.registry_timeout_s)
    secret = load_secret(settings.common)
    return RegistryClient(settings.registry_url,
                          lambda: mint_token(secret, sub="system:sensing", role="admin", ttl_seconds=300),
                          settings.registry_timeout_s)


@dataclass(kw_only=True)
class SensingRuntime(ServiceRuntime):
    """Seeds the alarm types, holds grid-registry's client, and runs the MQTT subscriber where configured."""

    registry: RegistryClient | None = None
    mqtt: Any = None

    @property
    def sensing(self) -> SensingSettings:
        """The settings, typed."""
        assert isinstance(self.settings, SensingSettings)
        return self.settings

    def prepare(self) -> None:
        """Seed the alarm types the database lacks (an administrator's changes to the others stay)."""
        seed_alarm_types(self.db)
        if self.registry is None:
            self.registry = registry_client(self.sensing)

    def stop(self) -> None:
        """Stop the MQTT subscriber, then the shared runtime."""
        if self.mqtt is not None:
            self.mqtt.stop()
        if self.registry is not None:
            self.registry.close()
        super().stop()

    def ready(self) -> dict[str, bool]:
        """The shared checks, and the MQTT subscriber's connection where one is configured."""
        checks = super().ready()
        if self.sensing.mqtt_url:
            checks["mqtt"] = bool(self.mqtt is not None and getattr(self.mqtt, "connected", False))
        return checks
