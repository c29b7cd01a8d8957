"""event-intake settings (env prefix ``GRIDGOV_INTAKE_``)."""

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Settings of event-intake; defaults are the embedded stack on port 8001."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_INTAKE_", extra="ignore")

    service_name: str = "event-intake"
    port: int = 8001
    # Media uploads (photos): bigger bodies get 413.
    media_max_bytes: int = 10 * 1024 * 1024
    # An S3-compatible bucket for media (production); unset: local files under the data directory.
    media_s3_bucket: str | None = None
    media_s3_prefix: str = "event-intake"
    media_s3_endpoint_url: str | None = None  # e.g. a MinIO URL; credentials come from the usual AWS_* variables
    media_s3_region: str | None = None
    # Citizen photo reports (随手拍): at most this many per device and per phone in the window.
    citizen_limit: int = 5
    citizen_window_seconds: int = 600
    # ... per account (the token's subject), whatever device or phone it claims, in the same window.
    citizen_account_limit: int = 10
    # ... per source address in the same window; generous, as carrier-grade NAT puts many phones behind one.
    citizen_address_limit: int = 100
    # ... and all citizens together per minute: a ceiling that holds off a flood from many accounts.
    citizen_global_per_minute: int = 600
    # Reward points credited when a citizen report's ticket passes verification (核查通过), never at intake.
    citizen_reward_points: int = 10
    # Open311 POST: at most this many requests per api_key (or per source address without one) in the window.
    open311_limit: int = 120
    open311_window_seconds: int = 60
    # Upload quotas per rolling day: per account and per source address, in count and in bytes.
    media_daily_count_per_account: int = 200
    media_daily_bytes_per_account: int = 200 * 1024 * 1024
    media_daily_count_per_address: int = 2000
    media_daily_bytes_per_address: int = 2 * 1024 * 1024 * 1024
    # Decompression bombs: image dimensions read from the header, refused above these.
    media_max_pixels: int = 50_000_000
    media_max_side: int = 20_000
    # Peers (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For is believed; others' is ignored.
    trusted_proxies: list[str] = []
    # Open311's public view (issue #11): channels whose reports are listed, and whether photos are published.
    # The hotline (12345) is a private conversation with a caller: not listed unless a city adds it here.
    open311_public_channels: list[str] = ["patrol", "citizen", "open311"]
    # Off: no media_url and /open311/v2/media/{id} answers 404 (photos are not approved for publication).
    open311_public_media: bool = False
    # The city's local time zone: a photo's EXIF time without an offset (OffsetTimeOriginal) is read in it.
    timezone: str = "Asia/Shanghai"
    # The city's extent, west,south,east,north in WGS84 degrees: a report located outside it is refused (422,
    # "不在本市范围内"). The default is the demo city's extent with a margin: its towns together span
    # 113.5225-114.2605 E, 22.672-23.158 N (the union of the town polygons grid-registry generates for
    # "dongguan", gridgov_grid_registry.grids.generator), widened by about 0.02° (2 km) on every side so that a
    # point on the city's edge with a phone's GPS error is still taken. A city sets its own.
    city_extent: tuple[float, float, float, float] = (113.50, 22.65, 114.28, 23.18)
    # Repeat callers (重复来电): a caller's open reports of the last this many days are offered to attach a new
    # call to when their text is at least this alike (Jaccard similarity of shingles, 0..1; see assist.repeat).
    repeat_window_days: int = Field(default=30, ge=1, le=3650)
    repeat_min_similarity: float = Field(default=0.12, ge=0.0, le=1.0)

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)  # fail at startup, not at the first photo
        except (ValueError, KeyError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("city_extent")
    @classmethod
    def _valid_extent(cls, value: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        west, south, east, north = value
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValueError("city_extent is west,south,east,north with west < east and south < north")
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The city's time zone."""
        return ZoneInfo(self.timezone)

    def media_root(self) -> Path:
        """Where local media files live: ``<data dir>/media/event-intake``."""
        return (self.common.data_dir / "media" / self.service_name).resolve()
