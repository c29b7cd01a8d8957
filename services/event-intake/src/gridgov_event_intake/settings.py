"""event-intake settings (env prefix ``GRIDGOV_INTAKE_``)."""

from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Settings of event-intake; defaults are the embedded stack on port 8001."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_INTAKE_", extra="ignore")

    service_name: str = "event-intake"
    port: int = 8001
