"""Base settings shared by every service.

Defaults are the embedded stack (SQLite files and the embedded log under the data directory), so nothing
needs configuring to run. The distributed stack is chosen by configuration alone:
``GRIDGOV_KAFKA_BOOTSTRAP_SERVERS`` for the bus and ``GRIDGOV_<SERVICE>_DATABASE_URL`` per service.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Signature algorithms a city's provider may use: asymmetric only (see the alg-confusion note in auth.py).
OIDC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class CommonSettings(BaseSettings):
    """Settings every service reads with the shared ``GRIDGOV_`` prefix."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    data_dir: Path = Path("var")
    kafka_bootstrap_servers: str | None = None
    topic_partitions: int = Field(default=4, ge=1, le=256)
    # Prefix of physical topic and consumer-group names, for several environments on one Kafka cluster.
    topic_namespace: str = ""
    # How long the bus keeps a topic's messages (compacted topics: their latest per key, for ever), 0: for ever.
    # Kafka's default (7 days). The embedded log is pruned by the services (``ServiceRuntime``); on Kafka it is
    # the topic's ``retention.ms``, set when a service creates it. Handled-message records are kept a day longer.
    bus_retention_hours: float = Field(default=168, ge=0, le=10 * 365 * 24)
    # How often each service prunes what has expired (the embedded log, its handled-message records).
    retention_check_s: float = Field(default=60, gt=0, le=3600)
    jwt_secret: str | None = None
    token_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    log_level: str = "INFO"
    log_json: bool = True
    # /metrics: with a token, served only to ``Authorization: Bearer <token>``; unset, only to loopback clients
    # (the embedded stack, where Prometheus scrapes on the same machine).
    metrics_token: SecretStr | None = None

    # City identity (OpenID Connect). Off while ``oidc_issuer`` is unset: then only the HS256 tokens minted here
    # (``gridgov token ROLE``) are accepted, exactly as before. See README "City identity (OpenID Connect)".
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    # Else discovered from ``<issuer>/.well-known/openid-configuration``.
    oidc_jwks_uri: str | None = None
    # Comma-separated allow-list; only asymmetric algorithms (never ``none``, never HS*: see auth.py).
    oidc_algorithms: str = "RS256,ES256"
    oidc_leeway_s: int = Field(default=30, ge=0, le=300)
    oidc_subject_claim: str = "sub"
    # A claim name, or a dotted path into nested claims (Keycloak: ``realm_access.roles``).
    oidc_role_claim: str = "roles"
    # Provider role/group name -> gridgov role, as JSON; the first entry the token carries wins. Empty: the
    # claim's values are gridgov role names themselves.
    oidc_role_map: dict[str, str] = Field(default_factory=dict)
    oidc_department_claim: str = "department"
    oidc_grid_claim: str = "grid"
    # The person's display name for trails (OIDC's standard ``name``; Keycloak and most providers send it).
    oidc_name_claim: str = "name"
    oidc_jwks_ttl_s: float = Field(default=300, gt=0)
    # At most one JWKS fetch per this many seconds, so a flood of unknown ``kid``s cannot hammer the provider.
    oidc_jwks_min_refetch_s: float = Field(default=30, ge=0)
    oidc_http_timeout_s: float = Field(default=5, gt=0, le=60)
    # A city deployment turns this off so that only the city's provider issues identities.
    oidc_accept_local_tokens: bool = True

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric_algorithms_only(cls, value: str) -> str:
        """Refuse ``none`` and HS*: a provider's public key must never serve as an HMAC secret."""
        names = [a.strip() for a in value.split(",") if a.strip()]
        unsafe = [a for a in names if a not in OIDC_ALGORITHMS]
        if not names or unsafe:
            raise ValueError(f"GRIDGOV_OIDC_ALGORITHMS may list only {', '.join(OIDC_ALGORITHMS)}; "
                             f"refused: {', '.join(unsafe) or 'empty list'}")
        return ",".join(names)

    @field_validator("oidc_role_map")
    @classmethod
    def _gridgov_roles_only(cls, value: dict[str, str]) -> dict[str, str]:
        """Every mapped-to role must be a gridgov role."""
        from gridgov_common.auth import ROLES  # auth imports this module

        unknown = sorted({r for r in value.values() if r not in ROLES})
        if unknown:
            raise ValueError(f"GRIDGOV_OIDC_ROLE_MAP maps to unknown roles {', '.join(unknown)}; "
                             f"one of {', '.join(ROLES)}")
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> CommonSettings:
        """With an issuer, an audience is required: without it any token the provider issued to any
        application of the city would be accepted here."""
        if self.oidc_issuer is None:
            return self
        if self.oidc_issuer == "gridgov":
            raise ValueError("GRIDGOV_OIDC_ISSUER must not be 'gridgov', the issuer of the tokens minted here")
        if not self.oidc_audience:
            raise ValueError("GRIDGOV_OIDC_AUDIENCE is required when GRIDGOV_OIDC_ISSUER is set")
        for name, url in (("GRIDGOV_OIDC_ISSUER", self.oidc_issuer), ("GRIDGOV_OIDC_JWKS_URI", self.oidc_jwks_uri)):
            if url is not None and not url.startswith(("https://", "http://")):
                raise ValueError(f"{name} must be an http(s) URL")
        return self

    @property
    def oidc_algorithm_list(self) -> list[str]:
        """The allowed signature algorithms of the city's provider."""
        return self.oidc_algorithms.split(",")

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
