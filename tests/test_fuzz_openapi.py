"""Fuzz every service's OpenAPI (issues #5, #11): ≥ 1,000 generated requests each, as every role, on both stacks.

No response may be a 5xx, every 4xx must be in the documented error format (the ``/v1`` error object, or the
Open311 error array on ``/open311/v2``), and XML answers must be well-formed. Each service runs on SQLite and
on a fresh PostgreSQL database.

Besides what schemathesis generates, half of the cases that have a string value carry a hostile character in
one of them — NUL, another C0 control, DEL, a C1 control or a lone surrogate — in a path parameter
(percent-encoded, as it comes off the wire: a lone surrogate as the bytes ED A0 80 …), a query value, or a
JSON string anywhere in the body (JSON-escaped, e.g. ``"\\ud800"``). Headers are left alone: the HTTP client
refuses control characters there. Then every integer parameter (query, path, top-level JSON field) gets
values beyond PostgreSQL's INTEGER and BIGINT and SQLite's 64 bits, as every role. Bounded: one Hypothesis
run of ``CASES`` examples per service and stack, no shrinking database, no deadline.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core import NotSet

from conftest import TEST_SECRET
from gridgov_common.auth import mint_token
from tests.security.matrix import fill_path, request_for
from tests.security.services import create_service_app, postgres_databases, stack_params

CASES = 1000
MIN_PER_CLASS = 10  # each hostile class must really be sent, or the run proves nothing about it
PRINCIPALS = [
    {"sub": "fuzz-worker", "role": "grid_worker", "grid": "441900001001001"},
    {"sub": "fuzz-dispatcher", "role": "dept_dispatcher", "department": "water"},
    {"sub": "fuzz-centre", "role": "command_centre"},
    {"sub": "fuzz-admin", "role": "admin"},
    {"sub": "fuzz-citizen", "role": "citizen"},
    {"sub": "fuzz-gateway", "role": "device_gateway"},  # a machine (#16): alarms and heartbeats only
    None,  # no token at all
]
# The characters the text policy must refuse (or, for newline and tab in free text, keep) — never a 5xx.
HOSTILE: dict[str, list[str]] = {
    "NUL": ["\x00"],
    "C0": [chr(c) for c in range(0x01, 0x20)],
    "DEL": ["\x7f"],
    "C1": [chr(c) for c in range(0x80, 0xA0)],
    "lone surrogate": [chr(c) for c in (0xD800, 0xDB7F, 0xDC00, 0xDFFF)],
}

Slot = tuple[str, Callable[[], str], Callable[[str], None]]  # where, read, write


@pytest.fixture(scope="module")
def pg_urls():
    """Fresh PostgreSQL databases for this module's services, dropped at its end."""
    with postgres_databases() as urls:
        yield urls


def error_format_problem(path: str, status: int, content_type: str, body: bytes) -> str | None:
    """Why a 4xx body is not in the documented error format, or None when it is."""
    try:
        if path.startswith("/open311/"):
            if "xml" in content_type:
                root = ET.fromstring(body)
                ok = root.tag == "errors" and root.find("error/code") is not None
                return None if ok else f"Open311 XML error expected, got {body[:200]!r}"
            data = json.loads(body)
            ok = isinstance(data, list) and data and all({"code", "description"} <= set(e) for e in data)
            return None if ok else f"Open311 error array expected, got {body[:200]!r}"
        data = json.loads(body)
    except (ET.ParseError, ValueError) as exc:
        return f"ill-formed {content_type or 'body'} ({exc}): {body[:200]!r}"
    error = data.get("error") if isinstance(data, dict) else None
    if not (isinstance(error, dict) and {"code", "message", "details"} <= set(error)):
        return f"error object expected, got {body[:200]!r}"
    if not all(isinstance(d, dict) and {"field", "reason"} <= set(d) for d in error["details"]):
        return f"every detail needs field and reason, got {error['details']!r}"
    return None


def _percent(text: str) -> str:
    """``text`` as it travels in a URL path: every byte percent-encoded (a lone surrogate as its raw bytes)."""
    return "".join(f"%{b:02X}" for b in text.encode("utf-8", "surrogatepass"))


def string_slots(case) -> list[Slot]:
    """Every string value of a case a hostile character can go into: path parameters, query, JSON body."""
    slots: list[Slot] = []
    for name, value in (case.path_parameters or {}).items():
        if isinstance(value, str):
            slots.append((f"path {name}", lambda n=name: case.path_parameters[n],
                          lambda v, n=name: case.path_parameters.__setitem__(n, v)))
    if isinstance(case.query, dict):
        for name, value in case.query.items():
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                if isinstance(item, str):
                    target = value if isinstance(value, list) else None
                    slots.append((f"query {name}", lambda n=name, i=i, t=target: (t[i] if t is not None
                                                                                    else case.query[n]),
                                  lambda v, n=name, i=i, t=target: (t.__setitem__(i, v) if t is not None
                                                                    else case.query.__setitem__(n, v))))

    def walk(node, where: str) -> None:
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            if isinstance(child, str):
                slots.append((f"body {where}{key}", lambda n=node, k=key: n[k],
                              lambda v, n=node, k=key: n.__setitem__(k, v)))
            else:
                walk(child, f"{where}{key}.")

    if isinstance(case.body, str) and "json" in (case.media_type or ""):
        slots.append(("body", lambda: case.body, lambda v: setattr(case, "body", v)))
    elif isinstance(case.body, (dict, list)) and "json" in (case.media_type or ""):
        walk(case.body, "")
    return slots


def inject(case, data) -> str | None:
    """Put one hostile character into one string of the case (half of the cases); its description, or None."""
    slots = string_slots(case)
    if not slots or not data.draw(st.booleans(), label="hostile"):
        return None
    where, read, write = data.draw(st.sampled_from(slots), label="slot")
    klass = data.draw(st.sampled_from(sorted(HOSTILE)), label="class")
    char = data.draw(st.sampled_from(HOSTILE[klass]), label="char")
    value = read()
    if where.startswith("path"):
        # Already percent-encoded by schemathesis: add the character's escapes at an end (never inside one).
        write(_percent(char) + value if data.draw(st.booleans(), label="front") else value + _percent(char))
    else:
        at = data.draw(st.integers(0, len(value)), label="at")
        text = value[:at] + char + value[at:]
        # A query value is sent as UTF-8; a lone surrogate can only travel as its raw bytes, as an attacker sends it.
        write(text.encode("utf-8", "surrogatepass") if where.startswith("query") and klass == "lone surrogate"
              else text)
    return f"{klass} U+{ord(char):04X} in {where}"


def _shown(body):
    """A case's body for a failure message (None when it has none)."""
    return None if isinstance(body, NotSet) else body


@pytest.mark.parametrize(("stack", "service"), stack_params())
def test_fuzz_openapi_no_5xx_and_4xx_in_error_format(stack, service, common_settings, request):
    database_url = request.getfixturevalue("pg_urls")[service] if stack == "postgresql" else None
    app = create_service_app(service, common_settings, database_url)
    headers = [{} if p is None else {"Authorization": f"Bearer {mint_token(TEST_SECRET, **p)}"}
               for p in PRINCIPALS]
    with TestClient(app) as client:  # runs the lifespan: migrations, runtime, consumers
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert operations, f"{service} documents no operations"
        strategy = st.one_of([op.as_strategy() for op in operations])
        seen: list[int] = []
        hostile: Counter[str] = Counter()
        failures: list[str] = []

        @settings(max_examples=CASES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy, auth=st.sampled_from(headers), data=st.data())
        def run(case, auth, data):
            injected = inject(case, data)
            if injected:
                hostile[injected.split(" U+")[0]] += 1
            who = next((p["role"] for p, h in zip(PRINCIPALS, headers, strict=True) if h == auth and p), "anonymous")
            call = (f"{case.method} {case.formatted_path} as {who}{f' with {injected}' if injected else ''}"
                    f" (query {case.query!r:.120}, body {_shown(case.body)!r:.160})")
            try:
                response = case.call(headers=auth)
            except Exception as exc:  # noqa: BLE001 - the app raised instead of answering: a 500 behind a server
                seen.append(500)
                failures.append(f"{call} -> raised {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
                return
            seen.append(response.status_code)
            where = f"{call} -> {response.status_code}"
            content_type = response.headers.get("content-type") or ""
            if isinstance(content_type, list):
                content_type = content_type[0] if content_type else ""
            if response.status_code >= 500:
                failures.append(f"{where}: {response.content[:300]!r}")
            elif response.status_code >= 400:
                problem = error_format_problem(case.formatted_path, response.status_code, content_type,
                                               response.content)
                if problem:
                    failures.append(f"{where}: {problem}")
            elif "xml" in content_type:
                try:
                    ET.fromstring(response.content)
                except ET.ParseError as exc:
                    failures.append(f"{where}: ill-formed XML ({exc}): {response.content[:200]!r}")

        run()
        probes, breaches = probe_integers(client, app)
        failures += breaches
    print(f"{stack}-{service}: {len(seen)} cases, {sum(hostile.values())} with a hostile character "
          f"({dict(sorted(hostile.items()))}), statuses {dict(sorted(Counter(seen).items()))}; "
          f"{probes} out-of-range integer probes")
    assert len(seen) >= CASES, f"only {len(seen)} cases ran for {service}"
    assert any(s < 300 for s in seen) and any(400 <= s < 500 for s in seen), "the fuzzer reached too little"
    thin = {k: hostile[k] for k in HOSTILE if hostile[k] < MIN_PER_CLASS}
    assert not thin, f"too few cases carried these hostile classes (< {MIN_PER_CLASS}): {thin}"
    assert not failures, (f"{len(failures)} of {len(seen)} cases and {probes} integer probes broke the contract:\n"
                          + "\n".join(failures[:30]))


# Integers a Python int holds but a database column does not (PostgreSQL's INTEGER ends at 2**31 - 1, BIGINT and
# SQLite's INTEGER at 2**63 - 1): a class of 500 that random generation reaches only now and then, so every
# integer parameter gets each of them, every run.
OUT_OF_RANGE = (2**31, 2**63, -(2**63) - 1, 10**30)


def _is_integer(schema: dict) -> bool:
    """Whether a parameter's schema admits an integer (alone or as one option of ``anyOf``)."""
    options = schema.get("anyOf") or [schema]
    return any(o.get("type") == "integer" for o in options)


def integer_probes(app) -> list[tuple[str, str, dict]]:
    """(method, url, request kwargs) with one integer parameter or top-level body field out of range."""
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    probes = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            base = request_for(method.upper(), path, operation, components, {})
            ints = [(p["in"], p["name"]) for p in operation.get("parameters", [])
                    if p["in"] in ("query", "path") and _is_integer(p.get("schema", {}))]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body and "$ref" in body:
                body = components[body["$ref"].rsplit("/", 1)[-1]]
            ints += [("body", name) for name, s in (body or {}).get("properties", {}).items() if _is_integer(s)]
            for where, name in ints:
                for value in OUT_OF_RANGE:
                    kwargs = {**base, "params": dict(base["params"])}
                    url = fill_path(path, {name: str(value)} if where == "path" else {})
                    if where == "query":
                        kwargs["params"][name] = str(value)
                    elif where == "body" and isinstance(base.get("json"), dict):
                        kwargs["json"] = {**base["json"], name: value}
                    probes.append((method.upper(), url, kwargs))
    return probes



def probe_integers(client, app) -> tuple[int, list[str]]:
    """Send every out-of-range integer probe as every role; the number of calls and the contract breaches."""
    failures, calls = [], 0
    for method, url, kwargs in integer_probes(app):
        for principal in PRINCIPALS[:-1]:  # every role, past authentication, so the value reaches the query
            auth = {"Authorization": f"Bearer {mint_token(TEST_SECRET, **principal)}"}
            try:
                response = client.request(method, url, **{**kwargs, "headers": {**kwargs["headers"], **auth}})
            except Exception as exc:  # noqa: BLE001 - the app raised instead of answering: a 500 behind a server
                failures.append(f"{method} {url} params {kwargs['params']} json {kwargs.get('json')!r:.100} as "
                                f"{principal['role']} -> raised {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                continue
            finally:
                calls += 1
            where = (f"{method} {url} params {kwargs['params']} json {kwargs.get('json')!r:.100} as "
                     f"{principal['role']} -> {response.status_code}")
            if response.status_code >= 500:
                failures.append(f"{where}: {response.content[:200]!r}")
            elif response.status_code >= 400:
                problem = error_format_problem(url, response.status_code, response.headers.get("content-type", ""),
                                               response.content)
                if problem:
                    failures.append(f"{where}: {problem}")
    return calls, failures
