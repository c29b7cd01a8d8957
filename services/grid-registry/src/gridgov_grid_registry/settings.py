"""grid-registry settings (env prefix ``GRIDGOV_REGISTRY_``)."""

from typing import Literal

from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Settings of grid-registry; defaults are the embedded stack on port 8002 with the demo grid set."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_REGISTRY_", extra="ignore")

    service_name: str = "grid-registry"
    port: int = 8002
    seed_demo: bool = True
    # auto: PostGIS ST_Covers when the database is PostgreSQL, the in-memory STRtree otherwise.
    locator: Literal["auto", "strtree", "postgis"] = "auto"
