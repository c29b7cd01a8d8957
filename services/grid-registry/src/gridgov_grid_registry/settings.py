"""grid-registry settings (env prefix ``GRIDGOV_REGISTRY_``)."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Settings of grid-registry; defaults are the embedded stack on port 8002 with the demo grid set."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_REGISTRY_", extra="ignore")

    service_name: str = "grid-registry"
    port: int = 8002
    seed_demo: bool = True
    # auto and strtree: the in-memory STRtree, loaded from this service's database, on both stacks (proven
    # identical to PostGIS by the parity test, and ~100x cheaper per lookup); postgis: ST_Covers per lookup.
    locator: Literal["auto", "strtree", "postgis"] = "auto"
    # How often to check whether another grid set took effect (an import by another process); a set scheduled
    # for a date is switched to at that moment regardless.
    refresh_seconds: float = Field(default=5.0, gt=0)
    # Publish the grids of the set in effect on gridgov.grids.published (once per set; dispatch's geofence needs
    # them). Off only for tests that start many registries and never read the topic.
    announce_grids: bool = True
