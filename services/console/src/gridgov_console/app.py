"""console: the command-centre console in the browser (指挥中心控制台) and its same-origin API.

It has no database and no bus consumer: the page's data comes from the four services through ``/api/<service>/``,
the live feed from polling dispatch with each watcher's token, and the DEV login signs tokens with the shared secret.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from gridgov_common.apidocs import document_error_answers, install_api_docs
from gridgov_common.auth import load_secret
from gridgov_common.errors import NotFound
from gridgov_common.i18n import RequestLanguage
from gridgov_common.limits import RequestGuard, RouteLimit
from gridgov_common.logs import configure_logging
from gridgov_common.web import install_error_handlers
from gridgov_console.config.policy import SERVICE_WORKER_POLICY, content_security_policy, tile_origin
from gridgov_console.config.views import router as config_router
from gridgov_console.deps import SigningSecret
from gridgov_console.feed.views import router as feed_router
from gridgov_console.gateway.views import router as gateway_router
from gridgov_console.login.handlers import dev_login_switch
from gridgov_console.login.views import router as login_router
from gridgov_console.settings import ConsoleSettings

STATIC = Path(__file__).parent / "static"
PAGE = STATIC / "app" / "index.html"  # built from services/console/frontend by scripts/build_console.sh
# First path segments that belong to the API, the files and the probes, never to a page of the front end.
RESERVED_PREFIXES = frozenset({"api", "static", "docs", "redoc", "openapi.json", "healthz", "readyz"})
log = logging.getLogger(__name__)

# The page runs only its own files (config.policy): no inline script or event handler, no eval, nothing from
# another origin but the base map's tiles when a tile URL is set, not framed.
PAGE_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "X-Frame-Options": "DENY"}


# The grid worker's app on a phone's slow network (issue #14): its page's own chunk is named in the answer's Link
# header, so the browser fetches it with the entry's files instead of a round trip later, when the entry has run.
# (Only for that page: every other page would download a chunk it never runs.) The build names files without a hash.
PAGE_CHUNKS = {"field": (("chunks/field.js", "modulepreload"), ("assets/field.css", "preload; as=style"))}


def page_links(page: str) -> dict[str, str]:
    """The Link header naming a page's own built chunks (none when the build has no such files)."""
    links = [f"</static/app/{name}>; rel={rel}; crossorigin" for name, rel in PAGE_CHUNKS.get(page, ())
             if (STATIC / "app" / name).is_file()]
    return {"Link": ", ".join(links)} if links else {}


def page_headers(settings: ConsoleSettings) -> dict[str, str]:
    """The page's headers, its Content-Security-Policy allowing images from the tile URL's origin when one is set."""
    images = (tile_origin(settings.tile_url),) if settings.tile_url else ()
    return {**PAGE_HEADERS, "Content-Security-Policy": content_security_policy(images)}


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
    # Compressed answers: the page's files (~1.6 MB, ~0.45 MB gzipped) and the API's JSON reach a phone on 3G in a
    # third of the time. Starlette leaves photos and the live feed (text/event-stream) as they are.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    # The feed and login first: the proxy's /api/{service}/{path} would otherwise claim /api/events/...
    app.include_router(login_router)
    app.include_router(config_router)
    app.include_router(feed_router)
    app.include_router(gateway_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    headers = page_headers(settings)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        """The console page (the built front end's entry)."""
        return FileResponse(PAGE, headers=headers)

    @app.get("/sw.js", include_in_schema=False)
    def service_worker() -> FileResponse:
        """The grid worker's app's service worker (built into static/app/), answered at the root so its scope is the
        whole console: it keeps the app shell for opening without signal. Never cached by the browser (no-cache), so
        a new build's worker is found at the next visit."""
        return FileResponse(STATIC / "app" / "sw.js", media_type="text/javascript",
                            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                                     "Content-Security-Policy": SERVICE_WORKER_POLICY})

    @app.get("/healthz", tags=["probes"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers. Anyone may call it."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"])
    def readyz(secret: SigningSecret) -> JSONResponse:
        """Readiness: the signing secret is loaded and the page is there. The services behind it are not checked:
        the page shows their own errors, and taking the console out while dispatch restarts would hide them."""
        checks = {"secret": bool(secret),
                  "page": PAGE.is_file()}
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/{path:path}", include_in_schema=False)
    def page_route(path: str) -> FileResponse:
        """Every other page path (a ticket's URL, a workbench) answers the same page; its router draws the view.
        Paths of the API and the files are answered above, so an unknown one stays a 404 there."""
        if path.split("/", 1)[0] in RESERVED_PREFIXES:
            raise NotFound("page", path)
        return FileResponse(PAGE, headers={**headers, **page_links(path)})

    return app
