"""dispatch settings (env prefix ``GRIDGOV_DISPATCH_``)."""

from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class DispatchSettings(ServiceSettings):
    """Settings of dispatch; defaults are the embedded stack on port 8003."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_DISPATCH_", extra="ignore")

    service_name: str = "dispatch"
    port: int = 8003
