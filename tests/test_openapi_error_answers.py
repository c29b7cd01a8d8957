"""Every action's OpenAPI lists its error answers in the one error format (issue #13, item 6), for every service:
401 and 403 where it takes a token, 422 where it takes input, 404 where the path names a thing, 503 everywhere."""

from __future__ import annotations

import importlib

import pytest

APPS = {
    "event-intake": "gridgov_event_intake.app",
    "grid-registry": "gridgov_grid_registry.app",
    "dispatch": "gridgov_dispatch.app",
    "notification": "gridgov_notification.app",
    "analytics": "gridgov_analytics.app",
    "sensing": "gridgov_sensing.app",
    "console": "gridgov_console.app",
}
ERROR_REF = "#/components/schemas/ErrorBody"
METHODS = {"get", "put", "post", "delete", "patch"}


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS and path.startswith(("/v1/", "/api/")):
                yield path, method, operation


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_operation_lists_its_error_answers(service):
    schema = importlib.import_module(APPS[service]).create_app().openapi()
    operations = list(_operations(schema))
    assert operations, f"{service} documents no /v1 or /api operations"
    missing = []
    for path, method, operation in operations:
        responses = operation["responses"]
        expected = {"503"}
        if operation.get("security"):
            expected |= {"401", "403"}
        if operation.get("parameters") or operation.get("requestBody"):
            expected.add("422")
        if "{" in path:
            expected.add("404")
        absent = expected - set(responses)
        if absent:
            missing.append(f"{method.upper()} {path}: {sorted(absent)}")
        for status, answer in responses.items():
            if status.isdigit() and int(status) >= 400:
                ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
                if ref != ERROR_REF:
                    missing.append(f"{method.upper()} {path} {status}: schema {ref}, not the error body")
    assert not missing, "\n".join(missing)


def test_ticket_actions_list_conflict():
    schema = importlib.import_module(APPS["dispatch"]).create_app().openapi()
    # the actions are the POSTs under a ticket (GET /v1/tickets/{ticket_id}/ratings reads, it does not act)
    actions = [p for p in schema["paths"] if p.startswith("/v1/tickets/{ticket_id}/") and "post" in schema["paths"][p]]
    assert len(actions) >= 10
    assert all("409" in schema["paths"][p]["post"]["responses"] for p in actions)


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_app_serves_its_docs_pages_without_a_cdn(service):
    from fastapi.testclient import TestClient

    client = TestClient(importlib.import_module(APPS[service]).create_app())  # no lifespan: the pages need none
    for page in ("/docs", "/redoc"):
        resp = client.get(page)
        assert resp.status_code == 200 and "/docs/assets/" in resp.text and "https://" not in resp.text
    assert client.get("/docs/assets/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
