"""API documentation every app serves itself: Swagger UI at ``/docs``, ReDoc at ``/redoc`` and the error answers
of every operation in its OpenAPI.

The pages load only files this package ships (``static/``, vendored from npm by ``scripts/vendor_docs_js.sh``):
FastAPI's defaults load Swagger UI from a CDN, which leaves ``/docs`` blank on a city's intranet. The pages carry
no inline script — each starts its viewer from a small file of ours — so they run under a policy of
``script-src 'self'``.

The error answers are added to the schema once, after FastAPI built it, from what each operation declares: a
security requirement (401, 403), parameters or a body (422), a path parameter (404), a write (409), a body (413;
415 when it is not JSON). Routers stay untouched; a route that can answer something the rules cannot see (a 410,
a 429) declares it with ``responses=error_responses(429)`` and gets the same schema.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

STATIC = Path(__file__).parent / "static"
ASSETS = "/docs/assets"  # where the vendored viewers and their starters are served

# ReDoc styles itself with <style> elements (styled-components) and runs its search in a blob: worker: its page
# allows those two, and nothing else beyond 'self'. Swagger UI needs neither and keeps the guard's stricter policy.
REDOC_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
             "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
             "base-uri 'none'; form-action 'none'")


class ErrorDetailBody(BaseModel):
    """One offending field and why it was refused."""

    field: str = Field(description="The field as the API names it (`body` for a body that is not JSON).")
    reason: str = Field(description="Why; in Chinese when the request's Accept-Language prefers zh.")


class ErrorInfo(BaseModel):
    """What went wrong."""

    code: str = Field(description="Stable machine-readable code (`not_found`, `illegal_transition` …).")
    message: str = Field(description="One line for a person; in Chinese when Accept-Language prefers zh.")
    details: list[ErrorDetailBody] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """Every ``/v1`` error answer: ``{"error": {"code", "message", "details": [{"field", "reason"}]}}``."""

    error: ErrorInfo


# status -> what it means here (the codes are those of gridgov_common.errors)
ERROR_STATUSES: dict[int, str] = {
    401: "Unauthenticated (`unauthenticated`): no bearer token, or an expired or invalid one.",
    403: "Forbidden (`forbidden`): the caller's role, department or grid may not do this.",
    404: "Not found (`not_found`): the thing named in the path does not exist, or the caller may not see it.",
    409: "Conflict (`conflict`, `illegal_transition`, …): the state does not allow this now, or changed under "
         "the caller.",
    410: "Gone (`gone`): it existed but may no longer be used.",
    413: "Payload too large (`payload_too_large`): the body is over the limit.",
    415: "Unsupported media type (`unsupported_media_type`).",
    422: "Validation failed (`validation_failed`): each detail names a field and the reason.",
    429: "Rate limited (`rate_limited`): see Retry-After.",
    503: "Unavailable (`unavailable`): a dependency (database, bus, service) cannot be reached; see Retry-After.",
}

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_WRITES = ("post", "put", "patch", "delete")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _example(code: str, message: str, field: str | None = None, reason: str | None = None) -> dict[str, Any]:
    details = [{"field": field, "reason": reason}] if field else []
    return {"error": {"code": code, "message": message, "details": details}}


# One typical answer per status, as the docs pages show it (the English texts; Chinese with Accept-Language: zh).
EXAMPLES: dict[int, dict[str, Any]] = {
    401: _example("unauthenticated", "authentication required", "Authorization", "token expired"),
    403: _example("forbidden", "forbidden", "department", "ticket is not with your department housing"),
    404: _example("not_found", "ticket 7f0c… not found", "ticket", "not found"),
    409: _example("illegal_transition", "cannot claim a ticket in state handled; allowed: verify, rework, supervise",
                  "action", "not allowed in state handled; allowed: verify, rework, supervise"),
    410: _example("gone", "this follow-up has expired", "token", "expired at 2026-10-08 18:00 (China time)"),
    413: _example("payload_too_large", "payload too large", "body", "larger than 1048576 bytes"),
    415: _example("unsupported_media_type", "unsupported media type", "Content-Type", "must be text/csv, got nothing"),
    422: _example("validation_failed", "the request is invalid", "note", "String should have at least 1 character"),
    429: _example("rate_limited", "rate limited", "device_id", "at most 5 reports per 3600s"),
    503: _example("unavailable", "the database is unavailable; retry later"),
}


def _answer(status: int) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": _ERROR_REF}
    if status in EXAMPLES:
        content["example"] = EXAMPLES[status]
    return {"description": ERROR_STATUSES.get(status, "Error"), "content": {"application/json": content}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that can answer statuses the central rules cannot see (410, 429)."""
    return {status: _answer(status) for status in statuses}


def _documented(path: str) -> bool:
    # Open311 documents its own error array; the probes answer their own bodies.
    return path.startswith(("/v1/", "/api/"))


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from what it declares."""
    statuses = {503}
    if operation.get("security"):
        statuses |= {401, 403}
    body = operation.get("requestBody")
    if operation.get("parameters") or body:
        statuses.add(422)
    if "{" in path:
        statuses.add(404)
    if method in _WRITES:
        statuses.add(409)
    if body:
        statuses.add(413)
        if any(not (t == "application/json" or t.endswith("+json")) for t in body.get("content", {})):
            statuses.add(415)
    return statuses


def add_error_answers(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers (with the ``ErrorBody`` schema) to every operation of a built OpenAPI schema."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    model = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(model.pop("$defs", {}))
    components["ErrorBody"] = model
    for path, item in schema.get("paths", {}).items():
        if not _documented(path):
            continue
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            declared = {int(s) for s in responses if str(s).isdigit() and int(s) >= 400}
            for status in sorted(error_statuses(path, method, operation) | declared):
                existing = responses.get(str(status)) or responses.get(status)
                # FastAPI's own 422 documents its {"detail": [...]} shape, which these apps never answer.
                if existing is None or status == 422 or "content" not in existing:
                    description = (existing or {}).get("description")
                    if description == "Validation Error":  # FastAPI's own, for its own shape
                        description = None
                    answer = _answer(status)
                    responses.pop(status, None)
                    responses[str(status)] = {**answer, "description": description or answer["description"]}
    for unused in ("HTTPValidationError", "ValidationError"):
        if not _references(schema, f"#/components/schemas/{unused}"):
            components.pop(unused, None)
    return schema


def _references(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_references(v, ref) for k, v in node.items() if k != "components")
    if isinstance(node, list):
        return any(_references(v, ref) for v in node)
    return False


def document_error_answers(app: FastAPI) -> None:
    """Make ``app.openapi()`` list every operation's error answers (computed once, on first use)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_error_answers(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _page(title: str, assets: str, head: str, body: str) -> str:
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n"
            f"<link rel=\"icon\" type=\"image/png\" href=\"{assets}/swagger-ui-dist/favicon-32x32.png\">\n"
            f"{head}</head>\n<body>\n{body}</body>\n</html>\n")


def swagger_ui_html(title: str, openapi_url: str, root: str = "") -> str:
    """The /docs page: Swagger UI from this package's files, started by ``swagger-init.js`` (no inline script)."""
    assets = root + ASSETS
    return _page(
        f"{title} – Swagger UI", assets,
        f"<link rel=\"stylesheet\" href=\"{assets}/swagger-ui-dist/swagger-ui.css\">\n",
        f"<div id=\"swagger-ui\" data-openapi-url=\"{html.escape(root + openapi_url)}\"></div>\n"
        f"<script src=\"{assets}/swagger-ui-dist/swagger-ui-bundle.js\"></script>\n"
        f"<script src=\"{assets}/swagger-init.js\"></script>\n")


def redoc_html(title: str, openapi_url: str, root: str = "") -> str:
    """The /redoc page: ReDoc from this package's files, started by ``redoc-init.js`` (no inline script)."""
    assets = root + ASSETS
    return _page(
        f"{title} – ReDoc", assets, "",
        f"<div id=\"redoc\" data-openapi-url=\"{html.escape(root + openapi_url)}\"></div>\n"
        f"<script src=\"{assets}/redoc/redoc.standalone.js\"></script>\n"
        f"<script src=\"{assets}/redoc-init.js\"></script>\n")


def install_api_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from this package's files (build the app with ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="api-docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        """Swagger UI over this app's OpenAPI."""
        return HTMLResponse(swagger_ui_html(app.title, openapi_url, request.scope.get("root_path", "")))

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        """ReDoc over this app's OpenAPI."""
        return HTMLResponse(redoc_html(app.title, openapi_url, request.scope.get("root_path", "")),
                            headers={"Content-Security-Policy": REDOC_CSP})
