"""HTTP route of the page's configuration."""

from fastapi import APIRouter

from gridgov_common.deps import Staff
from gridgov_console.config.schemas import BaseMapRead, PageConfig
from gridgov_console.deps import Settings

router = APIRouter(prefix="/api", tags=["config"])


@router.get("/config", response_model=PageConfig)
def get_config(settings: Settings, _principal: Staff) -> PageConfig:
    """The page's configuration: the optional base map (``GRIDGOV_CONSOLE_TILE_URL`` and its attribution). Who: any
    staff role (a city's tile URL may carry its access key, so it is not shown before sign-in)."""
    if not settings.tile_url:
        return PageConfig(base_map=None)
    return PageConfig(base_map=BaseMapRead(url=settings.tile_url, attribution=settings.tile_attribution,
                                           subdomains=settings.tile_subdomains, max_zoom=settings.tile_max_zoom))
