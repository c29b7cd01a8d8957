"""console: the command-centre console in the browser (指挥中心控制台) and its same-origin API.

It has no database and no bus consumer: the page's data comes from the four services through ``/api/<service>/``,
the live feed from polling dispatch with each watcher's token, and the DEV login signs tokens with the shared secret.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from gridgov_common.auth import load_secret
from gridgov_common.logs import configure_logging
from gridgov_common.web import install_error_handlers
from gridgov_console.feed.views import router as feed_router
from gridgov_console.gateway.views import router as gateway_router
from gridgov_console.login.views import router as login_router
from gridgov_console.settings import ConsoleSettings

STATIC = Path(__file__).parent / "static"


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    """The console: the page at ``/``, its files under ``/static``, login, proxy and feed under ``/api``."""
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging(settings.service_name, settings.common.log_level, settings.common.log_json)
        app.state.jwt_secret = load_secret(settings.common)
        async with httpx.AsyncClient(timeout=settings.proxy_timeout_s) as client:
            app.state.http = client
            yield

    app = FastAPI(title="gridgov console", version="0.1.0", lifespan=lifespan,
                  description="The command-centre console: the page, a DEV login, a same-origin proxy to the four "
                              "services, and a live feed of ticket changes (server-sent events).")
    app.state.settings = settings
    install_error_handlers(app)
    # The feed and login first: the proxy's /api/{service}/{path} would otherwise claim /api/events/...
    app.include_router(login_router)
    app.include_router(feed_router)
    app.include_router(gateway_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        """The console page."""
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/healthz", tags=["probes"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers. Anyone may call it."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"])
    def readyz(request: Request) -> JSONResponse:
        """Readiness: the signing secret is loaded and the page is there. The services behind it are not checked:
        the page shows their own errors, and taking the console out while dispatch restarts would hide them."""
        checks = {"secret": bool(getattr(request.app.state, "jwt_secret", None)),
                  "page": (STATIC / "index.html").is_file()}
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks},
                            status_code=200 if ok else 503)

    return app
