"""The FastAPI shape every service shares: error handlers from the one table, /healthz, /readyz, /metrics,
and a lifespan that starts and stops the service runtime."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridgov_common.auth import load_secret
from gridgov_common.errors import DomainError, status_for
from gridgov_common.logs import configure_logging
from gridgov_common.runtime import ServiceRuntime


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    """One ``{field, reason}`` per pydantic error, with the field path as the client wrote it."""
    details = []
    for err in exc.errors():
        reason = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            reason = f"malformed JSON: {err.get('ctx', {}).get('error', 'cannot parse')}"
        details.append({"field": _field_name(tuple(err.get("loc", ()))), "reason": reason})
    return details


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one JSON error shape."""

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        headers = exc.headers() if callable(getattr(exc, "headers", None)) else None
        return JSONResponse(exc.body(), status_code=status_for(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        body = {"error": {"code": "validation_failed", "message": "the request is invalid",
                          "details": validation_details(exc)}}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = {"error": {"code": f"http_{exc.status_code}", "message": str(exc.detail), "details": []}}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


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

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    registry = CollectorRegistry()
    latency = Histogram("gridgov_http_request_seconds", "HTTP request latency",
                        ["method", "route", "status"], registry=registry)
    Gauge("gridgov_outbox_backlog", "Messages committed but not yet published", registry=registry
          ).set_function(lambda: app.state.runtime.db.outbox_backlog() if hasattr(app.state, "runtime") else 0)
    Gauge("gridgov_dlq_messages_total", "Messages this process sent to a DLQ", registry=registry
          ).set_function(lambda: sum(r.dead_lettered for r in getattr(app.state, "runtime", None).runners)
                         if hasattr(app.state, "runtime") else 0)

    Gauge("gridgov_consumer_assigned_partitions", "Partitions this process's consumers own now",
          registry=registry).set_function(
        lambda: sum(len(r.assigned) for r in app.state.runtime.runners) if hasattr(app.state, "runtime") else 0)

    Gauge("gridgov_consumer_lag", "Messages in owned partitions not yet committed (checked each second)",
          registry=registry).set_function(
        lambda: sum(r.lag for r in app.state.runtime.runners) if hasattr(app.state, "runtime") else 0)

    app.add_middleware(_LatencyMiddleware, histogram=latency)

    for router in routers:
        app.include_router(router)

    @app.get("/healthz", tags=["probes"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers. Anyone may call it."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"])
    def readyz(request: Request) -> JSONResponse:
        """Readiness: the database and the bus answer. Anyone may call it."""
        checks = request.app.state.runtime.ready()
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics", tags=["probes"], include_in_schema=False)
    def metrics_endpoint() -> Response:
        """Prometheus metrics. Anyone on the cluster network may scrape it."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
