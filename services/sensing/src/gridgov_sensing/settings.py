"""sensing settings (env prefix ``GRIDGOV_SENSING_``)."""

from __future__ import annotations

import os

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


def _local_registry() -> str:
    """grid-registry on loopback at the port the stack gave it (``gridgov up`` and the test stacks set
    ``GRIDGOV_REGISTRY_PORT`` for every process)."""
    return f"http://127.0.0.1:{os.environ.get('GRIDGOV_REGISTRY_PORT') or 8002}"


# The longest period a suppression rule's replay covers (``suppression.handlers``): the alarm log keeps at least it.
REPLAY_MAX_DAYS = 31


class SensingSettings(ServiceSettings):
    """Settings of sensing; defaults are the embedded stack on port 8005."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_SENSING_", extra="ignore")

    service_name: str = "sensing"
    port: int = 8005

    # grid-registry's API: a device's grid is looked up once, when it is registered or moved (POST /v1/locate/batch).
    registry_url: str = Field(default_factory=_local_registry)
    registry_timeout_s: float = Field(default=30.0, gt=0, le=300)
    # The bearer token sensing shows grid-registry; unset, one minted with the shared secret (role admin, subject
    # system:sensing). A city whose services accept only its identity provider's tokens sets a service account's.
    registry_token: SecretStr | None = None

    # A device is online while its last heartbeat is at most this old.
    online_window_s: int = Field(default=300, ge=10, le=86400)
    # A device heard from before and silent longer than the online window raises an offline alarm (摄像机离线 /
    # 传感器离线, record-only by default) at the next sweep; its next heartbeat resolves it (devices/offline.py).
    offline_alarms: bool = True
    # An open alarm group tells dispatch about repeats (alarm_group.repeated) at most this often.
    repeat_event_interval_s: int = Field(default=600, ge=0, le=86400)
    # How often the groups without a case that heard nothing within their dedupe window are closed (the grouping
    # consumer closes one lazily when its fingerprint fires again; the sweep keeps the lists and the map honest).
    sweep_interval_s: float = Field(default=60.0, ge=0, le=3600)  # 0: no sweep
    # How long the alarm log (one row per accepted alarm) keeps an alarm, by its occurred_at; 0: for ever. A
    # city's choice: the groups keep their counts, first and last seen and latest evidence, the tickets their own
    # evidence; what goes is the alarm-by-alarm detail and what a rule can be replayed over (a replay covers at
    # most 31 days, hence the floor). Pruned every GRIDGOV_RETENTION_CHECK_S by the processes running consumers.
    alarm_retention_days: int = Field(default=90, ge=0, le=3650)

    # MQTT (sensor alarms): off while unset, e.g. mqtt://127.0.0.1:11883.
    mqtt_url: str | None = None
    mqtt_topic: str = "gridgov/alarms/#"
    mqtt_client_id: str = "gridgov-sensing"

    @field_validator("alarm_retention_days")
    @classmethod
    def _replayable(cls, days: int) -> int:
        if 0 < days < REPLAY_MAX_DAYS:
            raise ValueError(f"0 (keep for ever) or at least {REPLAY_MAX_DAYS} days: a suppression rule's replay "
                             f"covers up to {REPLAY_MAX_DAYS} days of alarms")
        return days
