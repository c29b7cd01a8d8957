"""The authorization matrix: the expected table (authorization.md), the endpoints an app has, and one call.

Pure helpers for tests/security/test_authorization_matrix.py; see authorization.md for what the cells mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.routing import Route

from tests.security.world import CATEGORY, DEPARTMENT, GRID, PNG, PRINCIPALS

TABLE = Path(__file__).with_name("authorization.md")
COLUMNS = ("service", "method", "path", *PRINCIPALS)
VERDICTS = frozenset({"allow", "401", "403", "404"})
# FastAPI's own documentation routes: public on every service by design, not part of the matrix.
FRAMEWORK_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")

Endpoint = tuple[str, str, str]  # service, method, path template


@dataclass(frozen=True)
class Row:
    """One row of the table: the verdict expected for each principal, and the line it is on."""

    verdicts: dict[str, str]
    line: int


def parse_table(text: str) -> dict[Endpoint, Row]:
    """The table's rows by endpoint; ValueError naming the line for a malformed or duplicated row."""
    rows: dict[Endpoint, Row] = {}
    header: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("|"):
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if header is None:
            if cells[0] != "service":
                continue  # another table (the legend)
            header = cells
            if tuple(header[:len(COLUMNS)]) != COLUMNS:
                raise ValueError(f"line {number}: the header must start with {' | '.join(COLUMNS)}")
            continue
        if set(line) <= set("|-: "):
            continue  # the separator under the header
        if len(cells) < len(COLUMNS):
            raise ValueError(f"line {number}: {len(cells)} cells, expected {len(COLUMNS)} (+ a note)")
        service, method, path = cells[:3]
        verdicts = dict(zip(PRINCIPALS, cells[3:len(COLUMNS)], strict=True))
        bad = {p: v for p, v in verdicts.items() if v not in VERDICTS}
        if bad:
            raise ValueError(f"line {number}: verdicts must be one of {sorted(VERDICTS)}, got {bad}")
        key = (service, method.upper(), path)
        if key in rows:
            raise ValueError(f"line {number}: {service} {method} {path} is already on line {rows[key].line}")
        rows[key] = Row(verdicts, number)
    if header is None:
        raise ValueError("no table found")
    return rows


def load_table() -> dict[Endpoint, Row]:
    """The repository's expected table."""
    return parse_table(TABLE.read_text(encoding="utf-8"))


def endpoints(service: str, app: FastAPI) -> dict[Endpoint, dict[str, Any]]:
    """Every endpoint of an app → its OpenAPI operation ({} when hidden from the schema, e.g. /metrics)."""
    found: dict[Endpoint, dict[str, Any]] = {}
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            found[(service, method.upper(), path)] = operation
    for route in app.routes:
        hidden = isinstance(route, Route) and not getattr(route, "include_in_schema", True)
        if hidden and route.path not in FRAMEWORK_PATHS:
            for method in sorted(route.methods or ()):
                if method != "HEAD":  # Starlette adds HEAD to every GET route
                    found.setdefault((service, method, route.path), {})
    return found


def row_template(endpoint: Endpoint) -> str:
    """The Markdown row to add for an endpoint the table lacks (verdicts to be decided by a reviewer)."""
    return "| " + " | ".join([*endpoint, *("?" for _ in PRINCIPALS), "(why)"]) + " |"


def is_scoped(row: Row) -> bool:
    """A row where some principal is answered not-found: there a 404 is a verdict, not a data answer."""
    return "404" in row.verdicts.values()


def verdict(status: int, method: str, scoped: bool) -> str:
    """How a status reads against the table: ``allow`` when the caller got past authorization.

    Outside scoped rows a 404 (or 409, 422 …) still means the caller passed; in a scoped row a 404 is the
    "hidden" verdict, and a GET of the seeded object must answer 2xx to count as allowed. A 5xx is never a
    verdict (it is reported as itself).
    """
    if status in (401, 403):
        return str(status)
    if scoped and status == 404:
        return "404"
    if status >= 500 or (scoped and method == "GET" and status >= 300):
        return str(status)
    return "allow"


def fill_path(path: str, values: dict[str, str]) -> str:
    """The path template with the seeded world's values (a syntactically valid placeholder otherwise)."""
    return PARAM.sub(lambda m: values.get(m.group(1), "placeholder-1"), path)


def example(schema: dict[str, Any], components: dict[str, Any], name: str = "", values: dict | None = None,
            depth: int = 0) -> Any:
    """A minimal valid instance of a JSON schema: required properties only, first enum value, bounds kept."""
    values = values or {}
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if name in VALUE_HINTS:
        return VALUE_HINTS[name](values)
    for key in ("const", "default"):
        if key in schema and schema[key] is not None:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example(options[0], components, name, values, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 6:
            return {}
        props = schema.get("properties", {})
        return {k: example(props[k], components, k, values, depth + 1) for k in schema.get("required", [])
                if k in props}
    if kind == "array":
        item = example(schema.get("items", {}), components, name, values, depth + 1)
        return [item] * max(schema.get("minItems", 0), 0)
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "number":
        return float(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("format") == "date-time":
            return datetime.now(UTC).isoformat()
        if schema.get("format") == "date":
            return datetime.now(UTC).date().isoformat()
        return "matrix" + "x" * max(schema.get("minLength", 0) - 6, 0)
    return {}


# Values by field or parameter name, where a placeholder would be refused before authorization is decided.
VALUE_HINTS = {
    "note": lambda v: "matrix check",
    "department": lambda v: DEPARTMENT,
    "grid_code": lambda v: GRID,
    "category_code": lambda v: CATEGORY,
    "lon": lambda v: 113.75,
    "lat": lambda v: 23.02,
    "report_id": lambda v: v.get("report_id", "placeholder-1"),
    "satisfaction": lambda v: 5,
    "solved": lambda v: True,
    "on_duty": lambda v: True,
    "amount": lambda v: 1,
}


def request_for(method: str, path: str, operation: dict[str, Any], components: dict[str, Any],
                values: dict[str, str]) -> dict[str, Any]:
    """Keyword arguments for TestClient.request: required parameters and a minimal body from the schema."""
    kwargs: dict[str, Any] = {"params": {}, "headers": {}}
    for parameter in operation.get("parameters", []):
        if parameter["in"] in ("query", "header") and parameter.get("required"):
            name = parameter["name"]
            value = values.get(name, example(parameter.get("schema", {}), components, name, values))
            target = "params" if parameter["in"] == "query" else "headers"
            kwargs[target][name] = str(value).lower() if isinstance(value, bool) else str(value)
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        kwargs["json"] = example(content["application/json"].get("schema", {}), components, "", values)
    elif any(t.startswith("image/") for t in content):
        kwargs["content"], kwargs["headers"]["Content-Type"] = PNG, "image/png"
    elif "text/csv" in content:
        kwargs["content"], kwargs["headers"]["Content-Type"] = b"code,name\n", "text/csv"
    elif content:
        kwargs["json"] = {}
    if path.startswith("/open311/v2/requests.") and method == "POST":
        # Open311 reads its form itself (not in the schema); the api_key is the credential there.
        kwargs["data"] = {"api_key": values.get("api_key", ""), "service_code": CATEGORY, "lat": "23.02",
                          "long": "113.75", "description": "matrix check"}
    if path == "/api/login" and method == "POST":
        # The console's DEV login: a body that signs in (200) when the login is on, not a 422 for a missing grid.
        kwargs["json"] = {"role": "command_centre", "sub": "matrix-login"}
    return kwargs
