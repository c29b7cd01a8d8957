"""/docs and /redoc served from the package's own files (no CDN, no inline script), and the error answers every
operation lists in the OpenAPI (issue #13, item 6)."""

import re

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from gridgov_common.apidocs import document_error_answers, error_responses, install_api_docs
from gridgov_common.deps import require


class Note(BaseModel):
    """A body."""

    note: str


def _app() -> FastAPI:
    app = FastAPI(title="gridgov test", docs_url=None, redoc_url=None)
    install_api_docs(app)
    document_error_answers(app)

    @app.post("/v1/tickets/{ticket_id}/claim")
    def claim(ticket_id: str, body: Note, _p=Depends(require("dept_dispatcher"))) -> dict:
        return {}

    @app.get("/v1/public")
    def public() -> dict:
        return {}

    @app.post("/v1/followups", responses=error_responses(410, 429))
    def followup(body: Note) -> dict:
        return {}

    @app.get("/open311/v2/services.json")
    def services() -> list:
        return []

    return app


@pytest.fixture(scope="module")
def client():
    return TestClient(_app())


def _local_refs(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


@pytest.mark.parametrize("page, kinds", [
    ("/docs", {".js": "javascript", ".css": "text/css", ".png": "image/png"}),
    ("/redoc", {".js": "javascript", ".png": "image/png"}),
])
def test_docs_page_references_only_local_assets_that_are_served(client, page, kinds):
    resp = client.get(page)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", resp.text)  # nothing from a CDN: the page works on an intranet
    assert "<script>" not in resp.text and "onload=" not in resp.text  # no inline script: a strict CSP holds
    refs = _local_refs(resp.text)
    assert refs and all(r.startswith("/docs/assets/") for r in refs)
    for ref in refs:
        asset = client.get(ref)
        expected = next(v for k, v in kinds.items() if ref.endswith(k))
        assert asset.status_code == 200 and expected in asset.headers["content-type"], ref
        assert len(asset.content) > 500 or ref.endswith("-init.js"), ref
    assert 'data-openapi-url="/openapi.json"' in resp.text


def test_swagger_starter_turns_off_the_online_validator(client):
    starter = client.get("/docs/assets/swagger-init.js").text
    assert "validatorUrl: null" in starter and "SwaggerUIBundle(" in starter


def test_redoc_page_allows_only_what_redoc_needs(client):
    csp = client.get("/redoc").headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp and "connect-src 'self'" in csp


def test_openapi_lists_error_answers_from_what_operations_declare(client):
    schema = client.get("/openapi.json").json()
    claim = schema["paths"]["/v1/tickets/{ticket_id}/claim"]["post"]["responses"]
    assert {"401", "403", "404", "409", "413", "422", "503"} <= set(claim)
    assert claim["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    public = schema["paths"]["/v1/public"]["get"]["responses"]
    assert set(public) == {"200", "503"}  # no token, no input, no path parameter: nothing else can happen
    followup = schema["paths"]["/v1/followups"]["post"]["responses"]
    assert {"410", "429", "422"} <= set(followup) and "401" not in followup
    assert followup["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert set(schema["paths"]["/open311/v2/services.json"]["get"]["responses"]) == {"200"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    error = schema["components"]["schemas"]["ErrorBody"]
    assert error["properties"]["error"]["$ref"] == "#/components/schemas/ErrorInfo"
