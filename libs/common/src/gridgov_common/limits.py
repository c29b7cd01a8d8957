"""The request guard every app runs in front of its routes (pure ASGI): body-size limits before parsing, one text
policy for every string that enters over HTTP, JSON depth, outage answers and security headers.

Why here and not in each endpoint: a limit an endpoint has to remember is a limit one endpoint forgets. The guard
sees every request before FastAPI reads a byte of it, so an oversized body is refused with 413 after at most
``limit`` bytes were read (memory stays flat whatever the client sends), and a string with a NUL or another control
character is refused with 422 naming the field before any handler could store it (PostgreSQL refuses NUL and lone
surrogates with a 500; XML 1.0 cannot carry C0 controls at all).

The text scan is two-speed: a cheap regular expression over the raw bytes (body, query string, path) looks for
anything that could decode to a refused character; only when it hits is the input parsed and walked to name the
field. Binary bodies (photos) are counted, never scanned; in multipart forms only text fields and file names are.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, Response

from gridgov_common.errors import DomainError, ErrorDetail, PayloadTooLarge, Unavailable, ValidationFailed, status_for

DEFAULT_MAX_BODY = 1024 * 1024  # 1 MiB: the largest JSON a report, a rule set or a form needs is far smaller
MAX_JSON_DEPTH = 32
MAX_DETAILS = 20  # a body with a thousand bad strings names the first twenty
MULTIPART_ALLOWANCE = 64 * 1024  # boundaries and part headers around an upload that is itself at its limit
RETRY_AFTER_SECONDS = 5

# The one text policy: C0 controls except tab, LF and CR; DEL; C1 controls; lone UTF-16 surrogates.
REFUSED_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Fast paths over raw bytes: a hit means "could hold a refused character", never "holds one". A JSON body is
# looked at in two parts (issue #16: one search with every alternative cost 5.5 ms on a 450 KB batch of 2,000
# alarms, more than parsing it): escapes, by their literal prefix, only when the body has one; raw bytes, on what
# is left once the printable ASCII is deleted (a C loop) — controls and every byte of a multi-byte character
# survive it, so a C1 control's two bytes stay side by side.
_RAW_CONTROLS = rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]"  # C0 but tab, LF, CR; DEL; C1 in UTF-8
_JSON_ESCAPE_SUSPECT = re.compile(rb"\\u(?:00[0189a-fA-F]|007[fF]|[dD][89a-fA-F])")
_RAW_SUSPECT = re.compile(_RAW_CONTROLS)
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"
_URLENCODED_SUSPECT = re.compile(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]|%[01][0-9a-fA-F]|%7[fF]|%[cC]2%[89][0-9a-fA-F]"
                                 rb"|%[eE][dD]%[aAbB]")
_TEXT_SUSPECT = re.compile(_RAW_CONTROLS + rb"|\xed[\xa0-\xbf]")  # and a UTF-8-encoded lone surrogate
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")

ErrorRenderer = Callable[[str, DomainError], Response]


def text_violation(text: str) -> str | None:
    """Why ``text`` breaks the text policy (the first refused character), or None when it is acceptable."""
    found = REFUSED_TEXT.search(text)
    if found is None:
        return None
    return f"control character U+{ord(found.group()):04X} not allowed"


def printable(text: str) -> str:
    """``text`` with every refused character written as an escape (a field name echoed back in an error)."""
    return REFUSED_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def check_text(text: str) -> str:
    """``text`` unchanged, or ValueError naming the refused character (a pydantic validator)."""
    reason = text_violation(text)
    if reason is not None:
        raise ValueError(reason)
    return text


def json_too_deep(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than ``max_depth`` (brackets inside strings ignored)."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    # The strings out, with bytes methods (a regex over every string cost 20 ms on a 450 KB alarm batch): escaped
    # backslashes first, then escaped quotes — in a run of backslashes both pair them from its start, as a JSON
    # lexer does — and then every other piece between quotes is a string. Up to the first byte that is not JSON
    # this is the lexer's reading, and a parser stops there: whatever follows cannot nest it deeper.
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"") if b"\\" in body else body
    depth = 0
    for bracket in b"".join(plain.split(b'"')[::2]).translate(None, _NOT_BRACKETS):
        if bracket in _OPENING:
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, reason) of every refused string in a parsed JSON value, keys included."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            reason = text_violation(item)
            if reason:
                yield where or "body", reason
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                child_path = f"{where}.{key}" if where else str(key)
                reason = text_violation(key)
                if reason:
                    yield printable(child_path), f"name: {reason}"
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{i}" if where else str(i)) for i, child in reversed(list(enumerate(item))))


def _json_suspect(body: bytes) -> bool:
    """Whether a JSON body could hold a refused character (raw or as an escape); False means it holds none."""
    if b"\\u" in body and _JSON_ESCAPE_SUSPECT.search(body):
        return True
    rest = body.translate(None, _PRINTABLE_ASCII)
    return bool(rest) and _RAW_SUSPECT.search(rest) is not None


def json_violations(body: bytes) -> list[tuple[str, str]]:
    """Refused strings of a JSON body as (field path, reason); none when it does not parse (FastAPI says why)."""
    if not _json_suspect(body):
        return []
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return []
    return list(_walk(value, ""))


def pairs_violations(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Refused names or values among (name, value) pairs of a query string or form."""
    found = []
    for name, value in pairs:
        reason = text_violation(name)
        if reason:
            found.append((printable(name), f"name: {reason}"))
        reason = text_violation(value)
        if reason:
            found.append((name, reason))
    return found


def urlencoded_violations(raw: bytes) -> list[tuple[str, str]]:
    """Refused names or values of a query string or url-encoded form."""
    if not _URLENCODED_SUSPECT.search(raw):
        return []
    return pairs_violations(parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                                      errors="replace"))


def _disposition(headers: bytes) -> dict[str, str]:
    """The parameters of a part's Content-Disposition header (name, filename)."""
    for line in headers.split(b"\r\n"):
        if line.lower().startswith(b"content-disposition:"):
            text = line.decode("utf-8", "surrogateescape")
            return {k.lower(): v for k, v in re.findall(r';\s*([\w*]+)="?([^";]*)"?', text)}
    return {}


def multipart_violations(body: bytes, boundary: bytes) -> list[tuple[str, str]]:
    """Refused text fields and file names of a multipart form; file content is binary and is not looked at."""
    found = []
    for part in body.split(b"--" + boundary)[1:]:
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        params = _disposition(head)
        name = printable(params.get("name", "body"))
        if "filename" in params:
            reason = text_violation(params["filename"])
            if reason:
                found.append((f"{name}.filename", reason))
            continue
        text = content.removesuffix(b"\r\n").decode("utf-8", "replace")
        reason = text_violation(text) or text_violation(params.get("name", ""))
        if reason:
            found.append((name, reason))
    return found


def text_body_violations(body: bytes) -> list[tuple[str, str]]:
    """Refused characters of a plain-text body (a CSV import), named by line."""
    if not _TEXT_SUSPECT.search(body):
        return []
    for number, line in enumerate(body.decode("utf-8", "surrogateescape").splitlines(), start=1):
        if re.search("[\udc80-\udcff]", line):  # undecodable bytes: the endpoint's decoder says why
            continue
        reason = text_violation(line)
        if reason:
            return [("body", f"line {number}: {reason}")]
    return []


@dataclass(frozen=True)
class RouteLimit:
    """A larger body limit for one route (an upload, an import); ``path`` is a prefix unless it ends with ``$``.

    ``authenticated_only``: the larger limit needs a bearer token that verifies (and, with ``roles``, one of those
    roles), so a client without one — or with a made-up header — never gets more than the default before its 401.
    """

    method: str
    path: str
    max_bytes: int
    authenticated_only: bool = True
    roles: tuple[str, ...] = ()  # empty: any valid token

    def matches(self, method: str, path: str) -> bool:
        """Whether this limit applies to a request."""
        if method != self.method:
            return False
        if self.path.endswith("$"):
            return path == self.path[:-1]
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


def default_error_response(_path: str, exc: DomainError) -> Response:
    """The ``/v1`` error shape of a refusal."""
    headers = exc.headers() if callable(getattr(exc, "headers", None)) else None
    return JSONResponse(exc.body(), status_code=status_for(exc), headers=headers)


def render_refusal(renderers: dict[str, ErrorRenderer] | None, path: str, exc: DomainError) -> Response:
    """A refusal in the format of its path: the renderer of the longest matching prefix, else the ``/v1`` shape."""
    for prefix, renderer in sorted((renderers or {}).items(), key=lambda kv: -len(kv[0])):
        if path.startswith(prefix):
            return renderer(path, exc)
    return default_error_response(path, exc)


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


_BINARY_TYPES = ("image/", "audio/", "video/", "application/octet-stream", "application/pdf", "application/zip")
_DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"))


def security_headers(path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The answer's headers plus the security headers it lacks; an app's own (a page's CSP) win."""
    present = {k.lower() for k, _ in headers}
    added = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
    if b"content-security-policy" not in present:
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"").lower()
        if path in _DOCS_PATHS:
            added.append((b"content-security-policy", DOCS_CSP.encode()))
        elif not content_type.startswith(b"text/html"):
            # HTML pages other than the docs (the console) set their own policy; everything else runs no code.
            added.append((b"content-security-policy", API_CSP.encode()))
    return list(headers) + added


def is_outage(exc: BaseException) -> bool:
    """Whether an exception means a dependency (database, broker) is down, not that the request is wrong."""
    from gridgov_common.bus.runner import is_transient  # the bus's own rule: what it retries, HTTP answers 503

    return isinstance(exc, Unavailable) or is_transient(exc)


def _route_patterns(routes, depth: int = 0) -> Iterator[Any]:
    """Every route (or included route) under ``routes`` that has a ``path_regex``, however FastAPI nests them."""
    for route in routes or ():
        if getattr(route, "path_regex", None) is not None:
            yield route
        if depth < 4:
            for nested in ("routes", "original_router"):
                try:
                    children = getattr(route, nested, None)
                except Exception:  # noqa: BLE001 - a property that cannot answer here names nothing
                    children = None
                children = getattr(children, "routes", children)  # an included router: its own routes
                if isinstance(children, list | tuple):
                    yield from _route_patterns(children, depth + 1)


def _path_parameter(scope: dict) -> str:
    """The name of the path parameter that holds a refused character, found by matching the app's routes."""
    app = scope.get("app")
    for route in _route_patterns(getattr(getattr(app, "router", None), "routes", ())):
        methods = getattr(route, "methods", None)
        if methods and scope["method"] not in methods:
            continue
        match = route.path_regex.match(scope["path"])
        if match:
            for name, value in match.groupdict().items():
                if isinstance(value, str) and REFUSED_TEXT.search(value):
                    return name
    return "path"


_UNCHECKED = object()


async def _principal_of(scope: dict) -> Any:
    """The caller of a request if its bearer token verifies (the app's own verifier, cached per token), else None.

    Only asked where a route has a larger body limit: the limit is what an anonymous client could otherwise make
    the service hold in memory by sending any Authorization header at all.
    """
    from gridgov_common.deps import authenticator_for, jwt_secret_of  # deps imports much; keep this module light

    raw = _header(scope, b"authorization")
    app = scope.get("app")
    if raw is None or app is None or not raw[:7].lower() == b"bearer ":
        return None
    secret = jwt_secret_of(app)
    if secret is None:
        return None
    try:
        return await authenticator_for(app).authenticate(secret, raw[7:].strip().decode("latin-1"))
    except Exception:  # noqa: BLE001 — any refusal (401, 403, 503) means: the default limit; the route says why
        return None


class RequestGuard:
    """Pure-ASGI middleware: limits, text policy, outage answers and security headers for every HTTP request."""

    def __init__(self, app, *, max_body: int = DEFAULT_MAX_BODY, route_limits: tuple[RouteLimit, ...] = (),
                 max_depth: int = MAX_JSON_DEPTH, error_renderers: dict[str, ErrorRenderer] | None = None):
        self.app = app
        self.max_body = max_body
        self.route_limits = tuple(route_limits)
        self.max_depth = max_depth
        # Path prefix -> renderer (Open311 answers its error array); the longest matching prefix wins.
        self.error_renderers = dict(error_renderers or {})

    async def limit_for(self, scope: dict) -> int:
        """The body limit of a request: the route's own where one is set (and its caller qualifies), else the
        default."""
        principal: Any = _UNCHECKED
        for limit in self.route_limits:
            if not limit.matches(scope["method"], scope["path"]):
                continue
            if not limit.authenticated_only:
                return limit.max_bytes
            if principal is _UNCHECKED:
                principal = await _principal_of(scope)
            if principal is not None and (not limit.roles or principal.role in limit.roles):
                return limit.max_bytes
        return self.max_body

    def render(self, path: str, exc: DomainError) -> Response:
        """The refusal in the format of its path (Open311 or ``/v1``)."""
        return render_refusal(self.error_renderers, path, exc)

    async def __call__(self, scope, receive, send) -> None:
        """Guard one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        started = False

        async def guarded_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": security_headers(path, message.get("headers", []))}
            await send(message)

        async def refuse(exc: DomainError, close: bool = False) -> None:
            response = self.render(path, exc)
            if close:  # the rest of the body is never read: the connection cannot carry another request
                response.headers["connection"] = "close"
            await response(scope, receive, guarded_send)

        refusal = self.check_url(scope)
        if refusal is not None:
            await refuse(refusal)
            return
        limit = await self.limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await refuse(PayloadTooLarge("body", limit), close=True)
            return
        content_type = (_header(scope, b"content-type") or b"").decode("latin-1").lower()
        if content_type.startswith(_BINARY_TYPES):
            await self._stream(scope, receive, guarded_send, limit, refuse, lambda: started)
            return
        body, complete = await self._read(receive, limit)
        if not complete:
            await refuse(PayloadTooLarge("body", limit), close=True)
            return
        refusal = self.check_body(body, content_type)
        if refusal is not None:
            await refuse(refusal)
            return
        await self._run(scope, _replay(body, receive), guarded_send, refuse, lambda: started)

    async def _run(self, scope, receive, send, refuse, started: Callable[[], bool]) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            # An outage that no handler turned into an answer (a broker error, a database error raised outside a
            # route) answers 503 rather than a bare 500, as long as nothing was sent yet.
            if started() or not is_outage(exc):
                raise
            await refuse(exc if isinstance(exc, Unavailable) else Unavailable(outage_message(exc)))

    async def _read(self, receive, limit: int) -> tuple[bytes, bool]:
        """The whole body, or (what was read, False) as soon as it passes ``limit``: the rest is never read."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), True  # disconnected: let the app see an empty body and give up
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", False
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True

    async def _stream(self, scope, receive, send, limit: int, refuse, started: Callable[[], bool]) -> None:
        """Pass a binary body through as it comes, counted; past ``limit`` answer 413 and end the app's body."""
        size = 0
        refused = False

        async def counted_receive():
            nonlocal size, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    refused = True
                    if not started():
                        await refuse(PayloadTooLarge("body", limit), close=True)
                    return {"type": "http.disconnect"}
            return message

        async def quiet_send(message) -> None:
            if not refused:  # after our 413 the app's own answer (to a "disconnect") goes nowhere
                await send(message)

        try:
            await self._run(scope, counted_receive, quiet_send, refuse, started)
        except Exception:
            if not refused:
                raise

    def check_url(self, scope: dict) -> DomainError | None:
        """A refusal for a path or query string that carries a refused character, else None."""
        details = []
        path = scope["path"]
        reason = text_violation(path)
        if reason:
            details.append(ErrorDetail(_path_parameter(scope), reason))
        details += [ErrorDetail(f, r) for f, r in urlencoded_violations(scope.get("query_string", b""))]
        return _invalid(details)

    def check_body(self, body: bytes, content_type: str) -> DomainError | None:
        """A refusal for a body that nests too deep or carries a refused character, else None."""
        if not body:
            return None
        kind = content_type.split(";")[0].strip()
        if kind in ("", "application/json") or kind.endswith("+json"):
            if json_too_deep(body, self.max_depth):
                return ValidationFailed("the request is invalid",
                                        [ErrorDetail("body", f"JSON nested deeper than {self.max_depth} levels")])
            return _invalid([ErrorDetail(f, r) for f, r in json_violations(body)])
        if kind == "application/x-www-form-urlencoded":
            return _invalid([ErrorDetail(f, r) for f, r in urlencoded_violations(body)])
        if kind == "multipart/form-data":
            boundary = re.search(r'boundary="?([^";]+)"?', content_type)
            if boundary:
                return _invalid([ErrorDetail(f, r) for f, r in
                                 multipart_violations(body, boundary.group(1).encode("latin-1"))])
            return None
        if kind.startswith("text/") or kind in ("application/xml", "application/csv"):
            return _invalid([ErrorDetail(f, r) for f, r in text_body_violations(body)])
        return None


def _invalid(details: list[ErrorDetail]) -> DomainError | None:
    if not details:
        return None
    return ValidationFailed("the request is invalid", details[:MAX_DETAILS])


def outage_message(exc: BaseException) -> str:
    """What an outage answer says: which dependency, never the driver's text (it can carry hosts and SQL)."""
    module = type(exc).__module__
    if module.startswith("kafka.") or "bus" in module:
        return "the message bus is unavailable; retry later"
    return "the database is unavailable; retry later"


def _replay(body: bytes, receive) -> Callable[[], Awaitable[dict]]:
    """A receive that hands the buffered body over once, then waits on the client (for a disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def is_loopback(host: str | None) -> bool:
    """Whether a client address is on this machine (127.0.0.0/8, ::1)."""
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
