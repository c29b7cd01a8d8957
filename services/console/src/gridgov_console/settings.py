"""console settings (env prefix ``GRIDGOV_CONSOLE_``)."""

from __future__ import annotations

import os

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings
from gridgov_console.config.policy import tile_origin


def _local(port_variable: str, default_port: int):
    """A default URL on loopback at the port the stack gave that service (``gridgov up`` and the test stack set
    ``GRIDGOV_<SERVICE>_PORT`` for every process, so the console follows them when they move)."""
    return lambda: f"http://127.0.0.1:{os.environ.get(port_variable) or default_port}"


class ConsoleSettings(ServiceSettings):
    """Settings of the console; defaults are the embedded stack, the page on port 8000."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_CONSOLE_", extra="ignore")

    service_name: str = "console"
    port: int = 8000

    # The services the page talks to, through this service's same-origin proxy (/api/<service>/...).
    intake_url: str = Field(default_factory=_local("GRIDGOV_INTAKE_PORT", 8001))
    registry_url: str = Field(default_factory=_local("GRIDGOV_REGISTRY_PORT", 8002))
    dispatch_url: str = Field(default_factory=_local("GRIDGOV_DISPATCH_PORT", 8003))
    notification_url: str = Field(default_factory=_local("GRIDGOV_NOTIFICATION_PORT", 8004))
    analytics_url: str = Field(default_factory=_local("GRIDGOV_ANALYTICS_PORT", 8006))
    sensing_url: str = Field(default_factory=_local("GRIDGOV_SENSING_PORT", 8005))
    proxy_timeout_s: float = Field(default=15.0, gt=0)
    proxy_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="largest request body passed on")
    # Photo uploads (intake's POST /v1/media) are larger than any JSON body; intake refuses over its own 10 MB.
    proxy_max_upload_bytes: int = Field(default=12 * 1024 * 1024, ge=1024,
                                        description="largest body passed on to an upload route")

    # DEV login: POST /api/login mints a token for any role with the shared secret, for anyone who reaches the page.
    # Unset (the default), it is on only for the embedded default stack on loopback (no Kafka configured and the
    # console bound to 127.0.0.1, ::1 or localhost), i.e. `gridgov up` on a developer's machine; true switches it on
    # anywhere (a closed trial; a WARNING is logged), false switches it off. A city signs users in through its SSO.
    dev_login: bool | None = None

    # The citizen's login (市民登录, /api/citizen/...): a phone confirmed by notification's SMS code, or anonymous with
    # the page's random device id. Tokens last citizen_token_ttl_s; subjects are keyed hashes of the phone or device
    # id under citizen_subject_key (unset: derived from the shared secret — rotating either changes every citizen's
    # subject, and with it whose reports and points are whose). Off by itself where the services accept only the
    # city's identity provider's tokens (see login/citizen.py).
    citizen_login: bool = True
    citizen_anonymous: bool = True
    citizen_token_ttl_s: int = Field(default=7 * 24 * 3600, ge=300, le=90 * 24 * 3600)
    citizen_subject_key: SecretStr | None = Field(default=None, min_length=16)

    # The live feed polls dispatch's ticket list with the watcher's own token (so each role sees only what it may).
    feed_poll_s: float = Field(default=2.0, gt=0)
    feed_window: int = Field(default=500, ge=1, le=500, description="newest tickets the feed watches per poll")
    feed_keepalive_s: float = Field(default=15.0, gt=0)

    # An optional base map under the grid polygons, from the city's own tile service (its GIS, 天地图): an XYZ or
    # WMTS-REST URL template with {z}, {x}, {y} (and {s} for subdomains). Unset (the embedded demo): polygons only.
    # Its origin, and only it, is added to the page's img-src; the page shows the attribution as text.
    tile_url: str | None = Field(default=None, description="e.g. https://t{s}.example.gov.cn/vec/{z}/{x}/{y}.png")
    tile_attribution: str = Field(default="", max_length=200, description="the tile provider's credit")
    tile_subdomains: str = Field(default="", pattern=r"^[A-Za-z0-9]*$", description="what replaces {s}, e.g. 01234567")
    tile_max_zoom: int = Field(default=18, ge=1, le=22)

    @field_validator("tile_url")
    @classmethod
    def _tile_url_loads_from_one_origin(cls, url: str | None) -> str | None:
        """Refuse at start a tile URL the page could not load or the policy could not name (empty means unset)."""
        if not url:
            return None
        tile_origin(url)
        return url

    def service_urls(self) -> dict[str, str]:
        """Base URL of each service the proxy reaches, by the name used in ``/api/<service>/``."""
        return {"intake": self.intake_url, "registry": self.registry_url, "dispatch": self.dispatch_url,
                "notification": self.notification_url, "analytics": self.analytics_url, "sensing": self.sensing_url}
