"""Every endpoint of every service × every principal answers as tests/security/authorization.md says (issue #11).

The endpoints come from each app itself (its OpenAPI operations plus routes hidden from the schema, such
as /metrics), so a new endpoint without a row fails here, and so does a row for an endpoint that is gone.
Each service runs on SQLite and on a fresh PostgreSQL database, against a small seeded world (world.py).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.security import matrix
from tests.security.services import SERVICES, create_service_app, postgres_databases, stack_params
from tests.security.world import PRINCIPALS, SEEDS, headers_of


@pytest.fixture(scope="module")
def pg_urls():
    """Fresh PostgreSQL databases for this module's services, dropped at its end."""
    with postgres_databases() as urls:
        yield urls


def test_parse_table_refuses_unknown_verdicts_and_duplicates():
    header = "| " + " | ".join(matrix.COLUMNS) + " | note |\n|" + "---|" * (len(matrix.COLUMNS) + 1) + "\n"
    row = "| dispatch | GET | /v1/x | " + " | ".join(["allow"] * len(PRINCIPALS)) + " | |\n"
    assert list(matrix.parse_table(header + row)) == [("dispatch", "GET", "/v1/x")]
    with pytest.raises(ValueError, match="line 4: dispatch GET /v1/x is already on line 3"):
        matrix.parse_table(header + row + row)
    with pytest.raises(ValueError, match="verdicts must be one of"):
        matrix.parse_table(header + row.replace("allow", "yes", 1))


@pytest.mark.parametrize(("status", "method", "scoped", "expected"), [
    (404, "GET", False, "allow"),  # not found on an unscoped endpoint: the caller was let in
    (404, "GET", True, "404"),  # hidden from this principal
    (422, "POST", True, "allow"),
    (409, "POST", False, "allow"),
    (302, "GET", True, "302"),  # a scoped GET of the seeded object must answer 2xx to count as allowed
    (500, "GET", False, "500"),  # never a verdict
    (401, "GET", False, "401"),
    (403, "POST", True, "403"),
])
def test_verdict_tells_hidden_from_allowed(status, method, scoped, expected):
    assert matrix.verdict(status, method, scoped) == expected


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_authorization_table_lists_every_endpoint_and_no_other(service, common_settings):
    table = {k: v for k, v in matrix.load_table().items() if k[0] == service}
    found = matrix.endpoints(service, create_service_app(service, common_settings))
    missing = sorted(set(found) - set(table))
    stale = sorted(set(table) - set(found))
    problems = [f"endpoint without a row — add to {matrix.TABLE.name} (decide each principal's verdict):\n"
                f"  {matrix.row_template(e)}" for e in missing]
    problems += [f"row on line {table[e].line} names an endpoint {service} no longer has — remove it: "
                 f"{' '.join(e)}" for e in stale]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("stack", "service"), stack_params())
def test_authorization_matrix_holds(stack, service, common_settings, request):
    table = {k: v for k, v in matrix.load_table().items() if k[0] == service}
    database_url = request.getfixturevalue("pg_urls")[service] if stack == "postgresql" else None
    app = create_service_app(service, common_settings, database_url)
    mismatches: list[str] = []
    calls = 0
    with TestClient(app) as client:
        world = SEEDS[service](client)
        operations = matrix.endpoints(service, app)
        components = app.openapi().get("components", {}).get("schemas", {})
        for endpoint in sorted(set(operations) & set(table)):
            _, method, path = endpoint
            row = table[endpoint]
            for principal in PRINCIPALS:
                kwargs = matrix.request_for(method, path, operations[endpoint], components, world.values)
                url = matrix.fill_path(path, world.values)
                kwargs["headers"] = {**kwargs["headers"], **headers_of(principal)}
                response = client.request(method, url, **kwargs)
                calls += 1
                got = matrix.verdict(response.status_code, method, matrix.is_scoped(row))
                if got != row.verdicts[principal]:
                    mismatches.append(f"{service} {method} {path} as {principal}: table says "
                                      f"{row.verdicts[principal]} (line {row.line}), got {got} — "
                                      f"{method} {url} -> {response.status_code} {response.text[:160]!r}")
                if method != "GET" and response.status_code < 300 and world.renew:
                    world.renew(world, method, path)
    assert calls, f"no row of {matrix.TABLE.name} names a {service} endpoint"
    assert not mismatches, (f"{len(mismatches)} of {calls} calls disagree with {matrix.TABLE.name}:\n"
                            + "\n".join(mismatches))
