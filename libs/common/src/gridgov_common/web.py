"""The FastAPI shape every service shares: error handlers from the one table, /healthz, /readyz, /metrics,
and a lifespan that starts and stops the service runtime."""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridgov_common import i18n
from gridgov_common.apidocs import document_error_answers, install_api_docs
from gridgov_common.auth import load_secret
from gridgov_common.deps import Runtime, error_renderers_of, started_runtime
from gridgov_common.errors import (
    DomainError,
    ErrorDetail,
    Forbidden,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
    status_for,
)
from gridgov_common.limits import (
    ErrorRenderer,
    RequestGuard,
    RouteLimit,
    is_loopback,
    is_outage,
    outage_message,
    render_refusal,
)
from gridgov_common.logs import configure_logging
from gridgov_common.runtime import ServiceRuntime

# pydantic names the validator or union member it tried in ``loc`` ("function-after[check(), str]",
# "constrained-str"): internal names, not the API's, so the field path leaves them out. Bare type names ("str")
# stay: a field may be called "date" or "url".
_PYDANTIC_TAG = re.compile(r"^[a-z][a-z-]*\[.*\]$|^(constrained|lax-or-strict|json-or-python)-?[\w-]*$")


def _field_name(loc: tuple) -> str:
    # Only the first element says where the input was; a field further in may itself be called "path" or "body".
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    parts = [str(p) for p in loc if not (isinstance(p, str) and _PYDANTIC_TAG.match(p))]
    return ".".join(parts) or "body"


def validation_details(exc: RequestValidationError, zh: bool = False) -> list[dict[str, str]]:
    """One ``{field, reason}`` per pydantic error, with the field path as the client wrote it; Chinese if ``zh``.

    A body that is not JSON names the field ``body`` (FastAPI's loc is a character offset) with the line and
    column in the reason.
    """
    details = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            # FastAPI's own parser puts the character offset where the field goes: ("body", 17).
            offset = loc[1] if len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int) else None
            where = i18n.json_position(exc.body, offset) if offset is not None else None
            reason = i18n.malformed_json_reason(str((err.get("ctx") or {}).get("error", "cannot parse")), where, zh)
            details.append({"field": "body" if offset is not None else _field_name(loc), "reason": reason})
            continue
        reason = i18n.validation_reason_zh(err) if zh else err.get("msg", "invalid")
        details.append({"field": _field_name(loc), "reason": reason})
    return details


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one JSON error shape (Chinese when asked for)."""
    install_outage_handler(app)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = exc.headers() if callable(getattr(exc, "headers", None)) else None
        body = exc.body()
        if i18n.request_wants_zh(request):  # idempotent if the language middleware already translated it
            body = i18n.localise_domain_body(exc, body)
        return JSONResponse(body, status_code=status_for(exc), headers=i18n.vary(headers))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        zh = i18n.request_wants_zh(request)
        message = "请求无效" if zh else "the request is invalid"
        body = {"error": {"code": "validation_failed", "message": message,
                          "details": validation_details(exc, zh)}}
        return JSONResponse(body, status_code=422, headers=i18n.vary(None))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = {"error": {"code": f"http_{exc.status_code}", "message": str(exc.detail), "details": []}}
        if i18n.request_wants_zh(request):
            body = i18n.localise_body(body, exc.status_code)
        return JSONResponse(body, status_code=exc.status_code, headers=i18n.vary(getattr(exc, "headers", None)))


def install_outage_handler(app: FastAPI) -> None:
    """A database that is down answers 503 with Retry-After in the error format, not a plain-text 500."""

    @app.exception_handler(DBAPIError)  # OperationalError and InterfaceError are DBAPIErrors
    async def _outage(request: Request, exc: DBAPIError) -> Response:
        if not is_outage(exc):  # an IntegrityError or a DataError is a defect, not an outage: stays a 500
            raise exc
        # In the format of the path (the Open311 error array under /open311/v2/).
        return render_refusal(error_renderers_of(request.app), request.url.path, Unavailable(outage_message(exc)))


def check_metrics_access(request: Request, token: str | None) -> None:
    """Let a scrape through: with a token set, only ``Bearer <token>``; without, only loopback clients."""
    if token is None:
        host = request.client.host if request.client else None
        if not is_loopback(host):
            raise Forbidden("metrics are served to loopback clients only unless GRIDGOV_METRICS_TOKEN is set",
                            "client")
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unauthenticated("a bearer token (GRIDGOV_METRICS_TOKEN) is required")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Forbidden("not the metrics token", "Authorization")


class _LatencyMiddleware:
    """Times every HTTP request into a histogram (pure ASGI: BaseHTTPMiddleware costs ~1 ms a request)."""

    def __init__(self, app, histogram: Histogram):
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            self.histogram.labels(scope["method"], getattr(route, "path", "unmatched"), str(status[0])).observe(
                time.perf_counter() - start)


def create_service_app(
    *,
    title: str,
    description: str,
    runtime_factory: Callable[[], ServiceRuntime],
    routers: list[APIRouter],
    metrics: Callable[[ServiceRuntime, CollectorRegistry], None] | None = None,
    route_limits: tuple[RouteLimit, ...] = (),
    error_renderers: dict[str, ErrorRenderer] | None = None,
) -> FastAPI:
    """Build a service's app: its routers, shared handlers and probes, and its runtime in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = runtime_factory()
        configure_logging(runtime.settings.service_name, runtime.settings.common.log_level,
                          runtime.settings.common.log_json)
        app.state.jwt_secret = load_secret(runtime.settings.common)
        runtime.start()
        app.state.runtime = runtime
        if metrics:
            metrics(runtime, registry)
        try:
            yield
        finally:
            runtime.stop()

    # /docs and /redoc from this package's own files (FastAPI's load Swagger UI from a CDN), error answers listed.
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    install_api_docs(app)
    document_error_answers(app)
    install_error_handlers(app)
    registry = CollectorRegistry()
    latency = Histogram("gridgov_http_request_seconds", "HTTP request latency",
                        ["method", "route", "status"], registry=registry)

    def gauge(read: Callable[[ServiceRuntime], float]) -> Callable[[], float]:
        # A scrape may come before the lifespan started the runtime: 0 until then.
        return lambda: read(runtime) if (runtime := started_runtime(app)) is not None else 0

    Gauge("gridgov_outbox_backlog", "Messages committed but not yet published", registry=registry
          ).set_function(gauge(lambda runtime: runtime.db.outbox_backlog()))
    Gauge("gridgov_dlq_messages_total", "Messages this process sent to a DLQ", registry=registry
          ).set_function(gauge(lambda runtime: sum(r.dead_lettered for r in runtime.runners)))

    Gauge("gridgov_consumer_assigned_partitions", "Partitions this process's consumers own now",
          registry=registry).set_function(gauge(lambda runtime: sum(len(r.assigned) for r in runtime.runners)))

    # Two totals, so a dashboard can divide their rates: the mean batch a consumer works per transaction.
    Gauge("gridgov_consumer_batches_total", "Polled batches this process's consumers have worked",
          registry=registry).set_function(gauge(lambda runtime: sum(r.batches for r in runtime.runners)))
    Gauge("gridgov_consumer_messages_total", "Messages this process's consumers have handled",
          registry=registry).set_function(gauge(lambda runtime: sum(r.handled for r in runtime.runners)))

    Gauge("gridgov_consumer_lag", "Messages in owned partitions not yet committed (checked each second)",
          registry=registry).set_function(gauge(lambda runtime: sum(r.lag for r in runtime.runners)))

    Gauge("gridgov_retention_deleted_total", "Expired bus messages (embedded log), handled-message records and "
          "(sensing) logged alarms this process's retention passes deleted", registry=registry
          ).set_function(gauge(lambda runtime: runtime.retention_deleted()))

    app.add_middleware(_LatencyMiddleware, histogram=latency)
    # Outermost: limits and text policy before anything reads the request; headers on every answer.
    app.add_middleware(RequestGuard, route_limits=route_limits, error_renderers=error_renderers)
    app.state.error_renderers = dict(error_renderers or {})
    app.add_middleware(i18n.RequestLanguage)  # outside the guard: its refusals follow Accept-Language too

    for router in routers:
        app.include_router(router)

    @app.get("/healthz", tags=["probes"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers. Anyone may call it."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"])
    def readyz(runtime: Runtime) -> JSONResponse:
        """Readiness: the database and the bus answer. Anyone may call it."""
        checks = runtime.ready()
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics", tags=["probes"], include_in_schema=False)
    def metrics_endpoint(request: Request, runtime: Runtime) -> Response:
        """Prometheus metrics: with ``Bearer <GRIDGOV_METRICS_TOKEN>``, or from loopback when no token is set."""
        token = runtime.settings.common.metrics_token
        check_metrics_access(request, token.get_secret_value() if token else None)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


class GeoJSONResponse(JSONResponse):
    """JSON with the GeoJSON media type (RFC 7946)."""

    media_type = "application/geo+json"


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """A ``bbox`` query parameter, ``west,south,east,north`` in degrees, or None; 422 naming ``bbox`` otherwise."""
    if text is None:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise ValidationFailed("bad bbox", [ErrorDetail("bbox", "west,south,east,north in degrees")]) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValidationFailed("bad bbox", [ErrorDetail("bbox", "needs west < east within ±180 and south < north "
                                                                "within ±90")])
    return west, south, east, north
