"""Open311 GeoReport v2 under ``/open311/v2/`` (thin): JSON or XML by the path's extension.

Errors here are the specification's error array (404 missing, 403 bad api_key, 400 otherwise), not the
``/v1`` error shape; forms and queries are parsed by hand so that FastAPI's own 422 never answers.

The GETs are anonymous and serve the public view only (see ``render`` and ``handlers``): reports of the
listed channels, coarse locations, public wording, photos only when ``open311_public_media`` is on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gridgov_common.errors import DomainError, ErrorDetail, NotFound, RateLimited, ValidationFailed, status_for
from gridgov_event_intake.catalog import handlers as catalogs
from gridgov_event_intake.deps import MediaStore, Runtime
from gridgov_event_intake.media import handlers as media_handlers
from gridgov_event_intake.open311 import handlers, render
from gridgov_event_intake.reports import handlers as report_handlers
from gridgov_event_intake.reports import limits
from gridgov_event_intake.reports.normalise import idempotency_key, require_in_city

router = APIRouter(prefix="/open311/v2", tags=["open311"])

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Open311 error array: [{code, description}]"},
    403: {"description": "Open311 error array (bad or missing api_key)"},
    404: {"description": "Open311 error array (no such service or request)"},
}


def _format(fmt: str) -> str:
    if fmt not in render.FORMATS:
        raise NotFound("format", fmt)
    return fmt


def _render(fmt: str, root: str, item: str, records: list[dict[str, Any]], status_code: int = 200) -> Response:
    if fmt == "xml":
        return Response(render.to_xml(root, item, records), status_code=status_code,
                        media_type="application/xml; charset=utf-8")
    return JSONResponse(records, status_code=status_code)


def _error(exc: DomainError, fmt: str) -> Response:
    status = status_for(exc)
    status = status if status in (403, 404, 429) else 400  # 429: rate limited, with Retry-After
    reasons = "; ".join(f"{d.field}: {d.reason}" for d in exc.details)
    records = render.error_records(status, f"{exc.message} ({reasons})" if reasons else exc.message)
    response = _render(fmt if fmt in render.FORMATS else "json", "errors", "error", records, status)
    if isinstance(exc, RateLimited):
        response.headers.update(exc.headers())
    return response


def open311(view: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Answer every domain error of ``view`` with the Open311 error array, in the requested format."""

    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return await view(*args, **kwargs)
        except DomainError as exc:
            return _error(exc, kwargs.get("fmt", "json"))

    return wrapper


def _media_url(request: Request, media_id: str | None) -> str | None:
    return f"{str(request.base_url).rstrip('/')}/open311/v2/media/{media_id}" if media_id else None


def _channels(runtime: Runtime) -> list[str]:
    """The channels whose reports the public may see."""
    return runtime.settings.open311_public_channels


def _photos_public(runtime: Runtime) -> bool:
    return runtime.settings.open311_public_media


@router.get("/services.{fmt}", responses=ERROR_RESPONSES)
@open311
async def get_services(fmt: str, runtime: Runtime) -> Response:
    """The service list: every category a report may carry under the event catalog in effect. Public."""
    _format(fmt)
    book = await run_in_threadpool(catalogs.categories_in_effect, runtime.db)
    return _render(fmt, "services", "service", [render.service_record(c) for c in book])


@router.get("/services/{service_code}.{fmt}", responses=ERROR_RESPONSES)
@open311
async def get_service_definition(service_code: str, fmt: str, runtime: Runtime) -> Response:
    """A service's definition (its attributes). Public."""
    _format(fmt)
    if not (await run_in_threadpool(catalogs.categories_in_effect, runtime.db)).is_known(service_code):
        raise NotFound("service_code", service_code)
    definition = render.service_definition(service_code)
    if fmt == "xml":
        return Response(render.definition_xml(definition), media_type="application/xml; charset=utf-8")
    return JSONResponse(definition)


@router.post("/requests.{fmt}", status_code=201, responses=ERROR_RESPONSES)
@open311
async def post_request(fmt: str, request: Request, runtime: Runtime) -> Response:
    """Create a service request from a form (``api_key`` required); ``Idempotency-Key`` makes retries safe."""
    _format(fmt)
    try:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    except Exception as exc:  # noqa: BLE001 - a body that is not a form is a bad request
        raise ValidationFailed("the body is not a form", [ErrorDetail("body", "form-encoded expected")]) from exc
    db = runtime.db

    def accept() -> report_handlers.Accepted:
        limits.check_open311_post(request, runtime, form.get("api_key"))  # per api_key, else per source address (429)
        with db.session() as session:
            client = handlers.authenticate(session, form.get("api_key"))
        draft = require_in_city(handlers.draft_from_form(client.name, form), runtime.settings.city_extent,
                                ("long", "lat"))
        key = idempotency_key("open311", client.name, header=request.headers.get("idempotency-key"))
        return report_handlers.accept(db, draft, key, committer=runtime.committer)

    accepted = await run_in_threadpool(accept)
    record = {"service_request_id": accepted.report_id, "service_notice": "", "account_id": None}
    return _render(fmt, "service_requests", "request", [record], 201 if accepted.created else 200)


def _records(request: Request, runtime: Runtime, rows: list) -> list[dict[str, Any]]:
    media: dict[str, str] = {}
    if _photos_public(runtime):
        with runtime.db.session() as session:
            media = handlers.first_media(session, [r.id for r in rows])
    book = catalogs.categories_in_effect(runtime.db)
    return [render.request_record(r, _media_url(request, media.get(r.id)), book) for r in rows]


@router.get("/requests.{fmt}", responses=ERROR_RESPONSES)
@open311
async def get_requests(fmt: str, request: Request, runtime: Runtime) -> Response:
    """Service requests by ``service_request_id`` list, or by ``service_code``, ``start_date``, ``end_date``,
    ``status``. Public: the public view of the listed channels' reports."""
    _format(fmt)
    wanted = handlers.parse_filter(request.query_params, datetime.now(UTC))

    def query() -> list:
        with runtime.db.session() as session:
            return handlers.list_requests(session, wanted, _channels(runtime))

    rows = await run_in_threadpool(query)
    return _render(fmt, "service_requests", "request", _records(request, runtime, rows))


@router.get("/requests/{request_id}.{fmt}", responses=ERROR_RESPONSES)
@open311
async def get_request(request_id: str, fmt: str, request: Request, runtime: Runtime) -> Response:
    """One service request, in the public view; 404 when its channel is not listed. Public."""
    _format(fmt)
    with runtime.db.session() as session:
        report = handlers.get_public(session, request_id, _channels(runtime))
    return _render(fmt, "service_requests", "request", _records(request, runtime, [report]))


@router.get("/tokens/{token}.{fmt}", responses=ERROR_RESPONSES)
@open311
async def get_token(token: str, fmt: str, runtime: Runtime) -> Response:
    """The request id of a token: gridgov answers at once, so a token is the request id itself. Public."""
    _format(fmt)
    with runtime.db.session() as session:
        report = handlers.get_public(session, token, _channels(runtime))
    return _render(fmt, "service_requests", "request", [{"token": token, "service_request_id": report.id}])


@router.get("/servicerequestupdates.{fmt}", responses=ERROR_RESPONSES)
@open311
async def get_service_request_updates(fmt: str, request: Request, runtime: Runtime) -> Response:
    """Status changes between ``start_date`` and ``end_date`` (the FixMyStreet extension), in their fixed
    public wording only: ticket events carry no public/internal flag, so no note written inside the city is
    ever published. Public."""
    _format(fmt)
    with runtime.db.session() as session:
        rows = handlers.list_updates(session, request.query_params, datetime.now(UTC), _channels(runtime))
    return _render(fmt, "service_request_updates", "request_update", [render.update_record(u) for u in rows])


@router.get("/media/{media_id}", response_class=Response, responses=ERROR_RESPONSES)
@open311
async def get_public_media(media_id: str, runtime: Runtime, storage: MediaStore) -> Response:
    """The public copy of a report's photo (no EXIF/GPS), as ``media_url`` points to; 404 unless photos are
    public and the report is listed. Public."""
    if not _photos_public(runtime):
        raise NotFound("media", media_id)
    handlers.plain_value("media", media_id)
    media, data = await run_in_threadpool(media_handlers.public_copy, runtime.db, storage, media_id)
    if media.report_id is None:  # not yet part of a report: not public
        raise NotFound("media", media_id)
    with runtime.db.session() as session:
        try:  # a photo follows its report; the 404 names the media only, not the unlisted report
            handlers.get_public(session, media.report_id, _channels(runtime))
        except NotFound as exc:
            raise NotFound("media", media_id) from exc
    return Response(content=data, media_type=media.content_type)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
@open311
async def unknown_path(rest: str) -> Response:
    """Any other path under ``/open311/v2/`` answers with the Open311 error array, not the ``/v1`` shape."""
    raise NotFound("path", f"/open311/v2/{rest}")


def guard_error(path: str, exc: DomainError) -> Response:
    """A refusal of the shared request guard (body size, text policy, outage) as the Open311 error array, in XML
    when the path ends ``.xml``; a size or outage refusal keeps its own status (413, 503), the rest answer 400."""
    status = status_for(exc)
    status = status if status in (403, 404, 413, 503) else 400
    reasons = "; ".join(f"{d.field}: {d.reason}" for d in exc.details)
    records = render.error_records(status, f"{exc.message} ({reasons})" if reasons else exc.message)
    response = _render("xml" if path.endswith(".xml") else "json", "errors", "error", records, status)
    if callable(getattr(exc, "headers", None)):
        response.headers.update(exc.headers())
    return response
