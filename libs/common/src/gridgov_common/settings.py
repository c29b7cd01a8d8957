"""Base settings shared by every service.

Defaults are the embedded stack (SQLite files and the embedded log under the data directory), so nothing
needs configuring to run. The distributed stack is chosen by configuration alone:
``GRIDGOV_KAFKA_BOOTSTRAP_SERVERS`` for the bus and ``GRIDGOV_<SERVICE>_DATABASE_URL`` per service.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Settings every service reads with the shared ``GRIDGOV_`` prefix."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    data_dir: Path = Path("var")
    kafka_bootstrap_servers: str | None = None
    topic_partitions: int = Field(default=4, ge=1, le=256)
    # Prefix of physical topic and consumer-group names, for several environments on one Kafka cluster.
    topic_namespace: str = ""
    jwt_secret: str | None = None
    token_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def bus_url(self) -> str:
        """Where the bus lives: ``kafka://host:port,...`` or ``sqlite:///path`` (embedded)."""
        if self.kafka_bootstrap_servers:
            return f"kafka://{self.kafka_bootstrap_servers}"
        return f"sqlite:///{(self.data_dir / 'bus.db').resolve()}"


class ServiceSettings(BaseSettings):
    """Per-service settings; subclasses set ``service_name`` and the env prefix ``GRIDGOV_<SERVICE>_``."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "gridgov"
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    run_consumers: bool = True
    run_relay: bool = True
    common: CommonSettings = Field(default_factory=CommonSettings)

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to one SQLite file per service in the data directory."""
        if self.database_url:
            return self.database_url
        path = (self.common.data_dir / f"{self.service_name}.db").resolve()
        return f"sqlite:///{path}"
