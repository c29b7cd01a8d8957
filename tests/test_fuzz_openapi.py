"""Fuzz every service's OpenAPI (issue #5): ≥ 1,000 generated requests each, as every role.

No response may be a 5xx, and every 4xx must be in the documented error format: the ``/v1`` error object, or
the Open311 error array on ``/open311/v2``. Bounded: one Hypothesis run of ``CASES`` examples per service,
no shrinking database, no deadline (≈ tens of seconds per service on the embedded stack).
"""

from __future__ import annotations

import importlib
import json
import xml.etree.ElementTree as ET

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import TEST_SECRET
from gridgov_common.auth import mint_token

CASES = 1000
SERVICES = {
    "event-intake": ("gridgov_event_intake.app", "gridgov_event_intake.settings", "IntakeSettings"),
    "grid-registry": ("gridgov_grid_registry.app", "gridgov_grid_registry.settings", "RegistrySettings"),
    "dispatch": ("gridgov_dispatch.app", "gridgov_dispatch.settings", "DispatchSettings"),
    "notification": ("gridgov_notification.app", "gridgov_notification.settings", "NotificationSettings"),
}
PRINCIPALS = [
    {"sub": "fuzz-worker", "role": "grid_worker", "grid": "441900001001001"},
    {"sub": "fuzz-dispatcher", "role": "dept_dispatcher", "department": "water"},
    {"sub": "fuzz-centre", "role": "command_centre"},
    {"sub": "fuzz-admin", "role": "admin"},
    {"sub": "fuzz-citizen", "role": "citizen"},
    None,  # no token at all
]


def error_format_problem(path: str, status: int, content_type: str, body: bytes) -> str | None:
    """Why a 4xx body is not in the documented error format, or None when it is."""
    if path.startswith("/open311/"):
        if "xml" in content_type:
            root = ET.fromstring(body)
            ok = root.tag == "errors" and root.find("error/code") is not None
            return None if ok else f"Open311 XML error expected, got {body[:200]!r}"
        data = json.loads(body)
        ok = isinstance(data, list) and data and all({"code", "description"} <= set(e) for e in data)
        return None if ok else f"Open311 error array expected, got {body[:200]!r}"
    data = json.loads(body)
    error = data.get("error") if isinstance(data, dict) else None
    if not (isinstance(error, dict) and {"code", "message", "details"} <= set(error)):
        return f"error object expected, got {body[:200]!r}"
    if not all(isinstance(d, dict) and {"field", "reason"} <= set(d) for d in error["details"]):
        return f"every detail needs field and reason, got {error['details']!r}"
    return None


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_fuzz_openapi_no_5xx_and_4xx_in_error_format(service, common_settings):
    app_module, settings_module, settings_class = SERVICES[service]
    service_settings = getattr(importlib.import_module(settings_module), settings_class)(common=common_settings)
    app = importlib.import_module(app_module).create_app(service_settings)
    headers = [{} if p is None else {"Authorization": f"Bearer {mint_token(TEST_SECRET, **p)}"}
               for p in PRINCIPALS]
    with TestClient(app):  # runs the lifespan: migrations, runtime, consumers
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert operations, f"{service} documents no operations"
        strategy = st.one_of([op.as_strategy() for op in operations])
        seen: list[int] = []
        failures: list[str] = []

        @settings(max_examples=CASES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy, auth=st.sampled_from(headers))
        def run(case, auth):
            response = case.call(headers=auth)
            seen.append(response.status_code)
            where = f"{case.method} {case.formatted_path} -> {response.status_code}"
            if response.status_code >= 500:
                failures.append(f"{where}: {response.content[:300]!r}")
            elif response.status_code >= 400:
                content_type = response.headers.get("content-type") or ""
                if isinstance(content_type, list):
                    content_type = content_type[0] if content_type else ""
                problem = error_format_problem(case.formatted_path, response.status_code, content_type,
                                               response.content)
                if problem:
                    failures.append(f"{where}: {problem}")

        run()
    assert len(seen) >= CASES, f"only {len(seen)} cases ran for {service}"
    assert any(s < 300 for s in seen) and any(400 <= s < 500 for s in seen), "the fuzzer reached too little"
    assert not failures, f"{len(failures)} of {len(seen)} cases broke the contract:\n" + "\n".join(failures[:20])
