"""Every endpoint of every service × every principal answers as tests/security/authorization.md says (issue #11).

The endpoints come from each app itself (its OpenAPI operations plus routes hidden from the schema, such
as /metrics), so a new endpoint without a row fails here, and so does a row for an endpoint that is gone.
Each service runs on SQLite and on a fresh PostgreSQL database, against a small seeded world (world.py). The
console has no database: it runs once, with the services behind it faked by an upstream that answers 200 to
everything (services.console_client), so its rows show what the console itself admits or refuses.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.security import matrix
from tests.security.services import (
    CONSOLE,
    SERVICES,
    console_client,
    create_service_app,
    postgres_databases,
    stack_params,
)
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


@pytest.mark.parametrize("service", [*sorted(SERVICES), CONSOLE])
def test_authorization_table_lists_every_endpoint_and_no_other(service, common_settings):
    table = {k: v for k, v in matrix.load_table().items() if k[0] == service}
    if service == CONSOLE:
        from gridgov_console.app import create_app  # the console's routes need no lifespan to be listed
        from gridgov_console.settings import ConsoleSettings

        app = create_app(ConsoleSettings(common=common_settings))
    else:
        app = create_service_app(service, common_settings)
    found = matrix.endpoints(service, app)
    missing = sorted(set(found) - set(table))
    stale = sorted(set(table) - set(found))
    problems = [f"endpoint without a row — add to {matrix.TABLE.name} (decide each principal's verdict):\n"
                f"  {matrix.row_template(e)}" for e in missing]
    problems += [f"row on line {table[e].line} names an endpoint {service} no longer has — remove it: "
                 f"{' '.join(e)}" for e in stale]
    assert not problems, "\n".join(problems)


def _call(client: TestClient, method: str, url: str, **kwargs) -> tuple[int, str]:
    """Status and the start of the answer; of a server-sent event stream only its first event (it never ends)."""
    with client.stream(method, url, **kwargs) as response:
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            return response.status_code, response.read().decode(errors="replace")[:160]
        first = []
        for line in response.iter_lines():
            if not line and first:
                break  # a blank line ends the event; closing the stream disconnects the feed
            if line:
                first.append(line)
        return response.status_code, "\n".join(first)


def _check_rows(service: str, app, client: TestClient, world, after_call=None) -> tuple[int, list[str]]:
    """Call every endpoint with a row as every principal: (how many calls, the cells that do not hold).

    ``after_call(endpoint, principal, status, text)`` may return a further problem with that call, or None.
    """
    table = {k: v for k, v in matrix.load_table().items() if k[0] == service}
    mismatches: list[str] = []
    calls = 0
    operations = matrix.endpoints(service, app)
    components = app.openapi().get("components", {}).get("schemas", {})
    for endpoint in sorted(set(operations) & set(table)):
        _, method, path = endpoint
        row = table[endpoint]
        for principal in PRINCIPALS:
            kwargs = matrix.request_for(method, path, operations[endpoint], components, world.values)
            url = matrix.fill_path(path, world.values)
            kwargs["headers"] = {**kwargs["headers"], **headers_of(principal)}
            status, text = _call(client, method, url, **kwargs)
            calls += 1
            got = matrix.verdict(status, method, matrix.is_scoped(row))
            if got != row.verdicts[principal]:
                mismatches.append(f"{service} {method} {path} as {principal}: table says "
                                  f"{row.verdicts[principal]} (line {row.line}), got {got} — "
                                  f"{method} {url} -> {status} {text!r}")
            problem = after_call(endpoint, principal, status, text) if after_call else None
            if problem:
                mismatches.append(f"{service} {method} {path} as {principal}: {problem}")
            if method != "GET" and status < 300 and world.renew:
                world.renew(world, method, path)
    return calls, mismatches


@pytest.mark.parametrize(("stack", "service"), stack_params())
def test_authorization_matrix_holds(stack, service, common_settings, request):
    database_url = request.getfixturevalue("pg_urls")[service] if stack == "postgresql" else None
    app = create_service_app(service, common_settings, database_url)
    with TestClient(app) as client:
        calls, mismatches = _check_rows(service, app, client, SEEDS[service](client))
    assert calls, f"no row of {matrix.TABLE.name} names a {service} endpoint"
    assert not mismatches, (f"{len(mismatches)} of {calls} calls disagree with {matrix.TABLE.name}:\n"
                            + "\n".join(mismatches))


@pytest.mark.timeout(120)  # the live feed never ends by itself: a stream left open must fail, not hang the run
def test_console_authorization_matrix_holds(common_settings):
    with console_client(common_settings) as (client, upstream):

        def console_adds_nothing(endpoint, principal, status, text) -> str | None:
            # The proxy's rule is "forward": the service behind must get the caller's credential, no other.
            _, method, path = endpoint
            if path == "/api/events" and status == 200 and not text.startswith("event: ready"):
                return f"the live feed opened but its first event is {text!r}, not `ready`"
            if not path.startswith("/api/{service}/"):
                return None
            sent = upstream.requests.pop() if upstream.requests else None
            if sent is None:
                return "the proxy did not forward the request"
            wanted = headers_of(principal).get("Authorization")
            if sent.headers.get("authorization") != wanted or sent.method != method:
                return (f"forwarded {sent.method} with Authorization {sent.headers.get('authorization')!r}, "
                        f"expected {method} with {wanted!r}")
            return None

        calls, mismatches = _check_rows(CONSOLE, client.app, client, SEEDS[CONSOLE](client), console_adds_nothing)
    assert calls, f"no row of {matrix.TABLE.name} names a {CONSOLE} endpoint"
    assert not mismatches, (f"{len(mismatches)} of {calls} calls disagree with {matrix.TABLE.name}:\n"
                            + "\n".join(mismatches))


def test_refuse_console_dev_login_to_every_principal_when_off(common_settings):
    # The table's POST /api/login row is the DEV login of `gridgov up` (on, for anyone); in a city deployment it is
    # off, and then nobody — admin included — gets a token from the console.
    with console_client(common_settings, dev_login=False) as (client, _):
        answers = {p: client.post("/api/login", json={"role": "command_centre", "sub": "matrix-login"},
                                  headers=headers_of(p)) for p in PRINCIPALS}
    assert {p: r.status_code for p, r in answers.items()} == dict.fromkeys(PRINCIPALS, 403)
    assert all(r.json()["error"]["details"][0]["field"] == "login" for r in answers.values())
