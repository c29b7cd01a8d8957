"""console: the command-centre console in the browser (指挥中心控制台) and its same-origin API.

It has no database and no bus consumer: the page's data comes from the four services through ``/api/<service>/``,
the live feed from polling dispatch with each watcher's token, and the DEV login signs tokens with the shared secret.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from gridgov_common.apidocs import document_error_answers, install_api_docs
from gridgov_common.auth import load_secret
from gridgov_common.i18n import RequestLanguage
from gridgov_common.limits import RequestGuard, RouteLimit
from gridgov_common.logs import configure_logging
from gridgov_common.web import install_error_handlers
from gridgov_console.feed.views import router as feed_router
from gridgov_console.gateway.views import router as gateway_router
from gridgov_console.login.handlers import dev_login_switch
from gridgov_console.login.views import router as login_router
from gridgov_console.settings import ConsoleSettings

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)

# The page runs only its own files: no inline script or event handler, no eval, nothing from another origin, not
# framed. Leaflet positions the map through element.style (CSSOM), which style-src 'self' does not restrict.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = {"Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    """The console: the page at ``/``, its files under ``/static``, login, proxy and feed under ``/api``."""
    settings = settings or ConsoleSettings()
    dev_login = dev_login_switch(settings.dev_login, settings.host, settings.common.kafka_bootstrap_servers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging(settings.service_name, settings.common.log_level, settings.common.log_json)
        app.state.jwt_secret = load_secret(settings.common)
        if dev_login.enabled:
            log.warning("DEV login is ON (%s): anyone who reaches this console can sign in as any role, admin "
                        "included; set GRIDGOV_CONSOLE_DEV_LOGIN=false and sign users in through the city's SSO",
                        dev_login.reason)
        else:
            log.info("DEV login is off (%s)", dev_login.reason)
        async with httpx.AsyncClient(timeout=settings.proxy_timeout_s) as client:
            app.state.http = client
            yield

    app = FastAPI(title="gridgov console", version="0.1.0", lifespan=lifespan,
                  description="The command-centre console: the page, a DEV login, a same-origin proxy to the four "
                              "services, and a live feed of ticket changes (server-sent events).",
                  docs_url=None, redoc_url=None)
    install_api_docs(app)  # /docs and /redoc from gridgov_common's own files, not a CDN
    document_error_answers(app)
    app.state.settings = settings
    app.state.dev_login = dev_login
    install_error_handlers(app)
    # Body limits before the proxy reads a byte (up to proxy_max_body_bytes for a signed-in page), text policy, headers.
    # A signed-in photo upload may be larger (the first matching limit wins).
    app.add_middleware(RequestGuard, route_limits=(RouteLimit("POST", "/api/intake/v1/media$",
                                                              settings.proxy_max_upload_bytes),)
                       + tuple(RouteLimit(m, "/api/", settings.proxy_max_body_bytes)
                               for m in ("POST", "PUT", "PATCH", "DELETE")))
    app.add_middleware(RequestLanguage)  # outside the guard: its refusals follow Accept-Language too
    # The feed and login first: the proxy's /api/{service}/{path} would otherwise claim /api/events/...
    app.include_router(login_router)
    app.include_router(feed_router)
    app.include_router(gateway_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        """The console page."""
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

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
