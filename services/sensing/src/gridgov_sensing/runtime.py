"""sensing's runtime: the shared one, plus the alarm types seeded at start, the grid-registry client that places
devices, the sweep of quiet groups and silent devices, the alarm log's retention, and the MQTT subscriber when
``mqtt_url`` is set."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gridgov_common.auth import load_secret, mint_token
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import ALARMS_RAW, dlq
from gridgov_common.events.alarms import AlarmIn
from gridgov_common.periodic import Periodic
from gridgov_common.runtime import ServiceRuntime
from gridgov_sensing.adapters.mqtt import SOURCE as MQTT_SOURCE
from gridgov_sensing.adapters.mqtt import MqttAdapter
from gridgov_sensing.alarms.handlers import close_quiet_groups, prune_alarm_log
from gridgov_sensing.alarms.service import accept_alarms
from gridgov_sensing.devices.handlers import heartbeats as device_heartbeats
from gridgov_sensing.devices.offline import raise_offline_alarms
from gridgov_sensing.devices.registry import RegistryClient
from gridgov_sensing.settings import SensingSettings
from gridgov_sensing.types.handlers import seed_alarm_types

log = logging.getLogger(__name__)
MQTT_CONSUMER = "sensing.mqtt"  # the DLQ record's consumer for a refused MQTT message
DLQ_VALUE_MAX = 64 * 1024  # characters of a refused payload kept in its DLQ record


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
    mqtt: MqttAdapter | None = None
    sweeper: Periodic | None = None
    alarm_retention: Periodic | None = None
    started_at: datetime | None = None

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

    def start(self, ensure_topics_timeout: float = 120.0) -> None:
        """Start the shared runtime, then, where a broker is configured and this process runs consumers, the MQTT
        subscriber (one process per client id: the broker keeps one session per id)."""
        super().start(ensure_topics_timeout)
        self.started_at = datetime.now(UTC)
        if self.settings.run_consumers and self.sensing.sweep_interval_s > 0:
            self.sweeper = Periodic("alarm-group-sweeper", self.sweep, self.sensing.sweep_interval_s)
            self.sweeper.start()
        if self.settings.run_consumers and self.sensing.alarm_retention_days:
            self.alarm_retention = Periodic("alarm-log-retention", self.prune_alarm_log,
                                            self.settings.common.retention_check_s)
            self.alarm_retention.start()
        if self.runs_mqtt:
            settings = self.sensing
            assert settings.mqtt_url is not None
            self.mqtt = MqttAdapter(settings.mqtt_url, settings.mqtt_topic, settings.mqtt_client_id,
                                    self.accept_mqtt, self.reject_mqtt, heartbeat=self.heartbeat_mqtt)
            self.mqtt.start()

    @property
    def runs_mqtt(self) -> bool:
        """Whether this process subscribes to the MQTT broker."""
        return bool(self.sensing.mqtt_url and self.settings.run_consumers)

    def sweep(self) -> int:
        """One sweep: close the quiet groups, then raise the offline alarms of devices gone silent — not before this
        process has been up one online window (the heartbeats sent while it was down were never recorded); how many
        groups it closed and alarms it raised."""
        now = datetime.now(UTC)
        closed = close_quiet_groups(self.db, now)
        window = self.sensing.online_window_s
        if not self.sensing.offline_alarms or self.started_at is None or now - self.started_at < timedelta(
                seconds=window):
            return closed
        raised = raise_offline_alarms(self.db, now, window)
        if raised:
            log.info("offline alarms: %d devices silent for more than %d s", raised, window)
        return closed + raised

    def prune_alarm_log(self) -> int:
        """One pass of the alarm log's retention (``alarm_retention_days``); how many alarms it deleted."""
        before = datetime.now(UTC) - timedelta(days=self.sensing.alarm_retention_days)
        deleted = prune_alarm_log(self.db, before)
        if deleted:
            log.info("alarm log retention: %d alarms that occurred before %s deleted", deleted, before.isoformat())
        return deleted

    def retention_deleted(self) -> int:
        """The shared retention's deletions and the alarm log's."""
        return super().retention_deleted() + (self.alarm_retention.steps if self.alarm_retention else 0)

    def heartbeat_mqtt(self, device_ids: list[str]) -> None:
        """Record an MQTT round of heartbeats (the ids not registered are logged)."""
        recorded = device_heartbeats(self.db, device_ids, datetime.now(UTC))
        if recorded.unknown_count:
            log.info("MQTT heartbeats: %d ids not registered, e.g. %s", recorded.unknown_count,
                     ", ".join(recorded.unknown[:5]))

    def accept_mqtt(self, alarms: list[AlarmIn], source: str = MQTT_SOURCE) -> None:
        """Ingest an MQTT batch (all or nothing; raises what ingest refuses)."""
        accept_alarms(self.db, alarms, source, datetime.now(UTC))

    def reject_mqtt(self, raw: bytes, reason: str) -> None:
        """Record a refused MQTT message on ``gridgov.alarms.raw.dlq`` with the reason, in the shape of the bus
        consumers' dead letters (the original payload as text, cut at 64 K characters)."""
        body = {"error": reason, "consumer": MQTT_CONSUMER, "topic": f"mqtt:{self.sensing.mqtt_topic}",
                "partition": None, "offset": None, "key": None,
                "value": raw.decode("utf-8", errors="replace")[:DLQ_VALUE_MAX],
                "failed_at": datetime.now(UTC).isoformat()}
        self.open_bus().publish([OutgoingMessage(dlq(ALARMS_RAW), MQTT_CONSUMER,
                                                 json.dumps(body, ensure_ascii=False).encode())])

    def stop(self) -> None:
        """Stop the sweeper, the alarm log's retention and the MQTT subscriber, then the shared runtime."""
        threads = [t for t in (self.sweeper, self.alarm_retention) if t is not None]
        for thread in threads:
            thread.stop()
        for thread in threads:  # a pass under way finishes before the database goes
            thread.join(timeout=10)
        if self.mqtt is not None:
            self.mqtt.stop()
        if self.registry is not None:
            self.registry.close()
        super().stop()

    def ready(self) -> dict[str, bool]:
        """The shared checks, and the MQTT subscriber's connection where one is configured."""
        checks = super().ready()
        if self.runs_mqtt:
            checks["mqtt"] = self.mqtt is not None and self.mqtt.connected
        return checks
