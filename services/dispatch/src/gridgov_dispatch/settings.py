"""dispatch settings (env prefix ``GRIDGOV_DISPATCH_``)."""

from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class DispatchSettings(ServiceSettings):
    """Settings of dispatch; defaults are the embedded stack on port 8003."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_DISPATCH_", extra="ignore")

    service_name: str = "dispatch"
    port: int = 8003
    # 并案: a report of the same category within this distance (metres) and window (minutes) of an open ticket
    # is attached to it. 0 metres turns merging off (the default, so one report stays one ticket unless a city
    # configures it: GRIDGOV_DISPATCH_MERGE_DISTANCE_M=50).
    merge_distance_m: float = 0.0
    merge_window_minutes: int = 120
