"""Typed FastAPI dependencies every service's views declare: the service runtime, the caller, role groups by
name, and conditional GET (ETag / If-None-Match).

This is the one module of libs/common that reads ``app.state`` (the lifespans in ``web.py`` only set it): views
take ``runtime: Runtime`` or a principal of a named role group instead of reaching into the request. A service
whose runtime carries more than the shared one (dispatch's context, grid-registry's locator) declares its own
``Runtime`` alias once, in its own ``deps.py``, over :func:`service_runtime`.

Role groups are the sets of roles endpoints admit, each defined once (in ``gridgov_common.auth``, beside the
roles, so that pure access rules can use them too), named by who they are, and declared here as a dependency:

===================  =================  ===================================================  ==========================
group                dependency         roles                                                who
===================  =================  ===================================================  ==========================
``STAFF``            ``Staff``          grid_worker, dept_dispatcher, command_centre, admin  the city's own people
``OFFICE_STAFF``     ``OfficeStaff``    dept_dispatcher, command_centre, admin               staff at a desk, not a grid
``CITY_WIDE``        ``CityWide``       command_centre, admin                                who sees the whole city
``REPORTERS``        ``Reporter``       grid_worker, citizen                                 who files reports, photos
``ADMINS``           ``Admin``          admin
``DEVICE_GATEWAYS``  ``DeviceGateway``  device_gateway, admin                                for devices
``PEOPLE``           ``AnyRole``        every role but the machines' (device_gateway)        any person signed in
===================  =================  ===================================================  ==========================
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from gridgov_common.auth import (
    ADMINS,
    CITY_WIDE,
    DEVICE_GATEWAYS,
    OFFICE_STAFF,
    PEOPLE,
    REPORTERS,
    STAFF,
    Authenticator,
    Principal,
)
from gridgov_common.errors import Forbidden, Unauthenticated
from gridgov_common.runtime import ServiceRuntime
from gridgov_common.settings import CommonSettings

# --- app state -----------------------------------------------------------------------------------------------


def runtime_of(app: Any) -> ServiceRuntime:
    """The runtime the app's lifespan started (raises AttributeError before the lifespan ran)."""
    return app.state.runtime


def started_runtime(app: Any) -> ServiceRuntime | None:
    """The app's runtime once its lifespan started it, else None (for gauges read at any time)."""
    return getattr(app.state, "runtime", None)


def jwt_secret_of(app: Any) -> str | None:
    """The signing secret the app's lifespan loaded, or None before it ran."""
    return getattr(app.state, "jwt_secret", None)


def error_renderers_of(app: Any) -> dict | None:
    """The app's refusal renderers by path prefix (the Open311 error array under ``/open311/v2/``), if any."""
    return getattr(app.state, "error_renderers", None)


# Dependencies are async on purpose: they do no I/O, and a sync dependency costs a hop to a worker thread.
async def service_runtime(request: Request) -> ServiceRuntime:
    """The service runtime (database, bus, consumers) of the app serving the request."""
    return request.app.state.runtime


Runtime = Annotated[ServiceRuntime, Depends(service_runtime)]


# --- the caller ----------------------------------------------------------------------------------------------

# Per app, outside ``app.state``: Starlette's State answers each attribute through a Python-level __getattr__,
# which cost more than the rest of the cached-token path.
_authenticators: weakref.WeakKeyDictionary[Any, Authenticator] = weakref.WeakKeyDictionary()


def authenticator_for(app: Any) -> Authenticator:
    """The app's authenticator, built once from its settings (``app.state.authenticator`` when preset before the
    first request)."""
    found = _authenticators.get(app)
    if found is None:
        state = app.state
        found = getattr(state, "authenticator", None)
        if found is None:
            runtime = getattr(state, "runtime", None)
            settings = getattr(runtime, "settings", None) or getattr(state, "settings", None)
            common = getattr(settings, "common", None) or CommonSettings()
            found = state.authenticator = Authenticator.from_settings(common)
        _authenticators[app] = found
    return found


async def authenticate(app: Any, token: str) -> Principal:
    """The principal of a bearer token, verified as the app verifies every token (401/403/503 with the reason)."""
    return await authenticator_for(app).authenticate(app.state.jwt_secret, token)


_bearer = HTTPBearer(auto_error=False, description="JWT from `gridgov token ROLE`, or from the city's OpenID "
                                                   "Connect provider when GRIDGOV_OIDC_ISSUER is set")


async def current_principal(request: Request,
                            credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    """The caller, from the Authorization header; 401 without a valid token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer token")
    return await authenticate(request.app, credentials.credentials)


async def optional_principal(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal | None:
    """The caller if they sent a bearer token (401 if it is invalid), None without one."""
    if credentials is None:
        return None
    return await current_principal(request, credentials)


class _RoleBearer(HTTPBearer):
    """The bearer scheme and the role check in one dependency.

    One level instead of three (role check → principal → bearer): FastAPI resolves each level of dependencies
    on every request, and the nested chain cost more than the endpoint it guarded. Being an ``HTTPBearer``,
    it still documents the same security scheme in OpenAPI.
    """

    def __init__(self, roles: tuple[str, ...]):
        super().__init__(auto_error=False, scheme_name=_bearer.scheme_name, description=_bearer.model.description)
        self.allowed = frozenset(roles)
        self.__doc__ = f"Admits roles: {', '.join(sorted(self.allowed))}."

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        """The caller, if their token is valid (401) and their role is allowed (403)."""
        principal = await current_principal(request, await super().__call__(request))
        if principal.role not in self.allowed:
            raise Forbidden(f"role {principal.role} may not do this; allowed: {', '.join(sorted(self.allowed))}")
        return principal


def require(*roles: str) -> _RoleBearer:
    """A dependency that admits only these roles (403 otherwise) and returns the principal."""
    return _RoleBearer(roles)


# --- role groups (defined in gridgov_common.auth) as typed dependencies ---------------------------------------

Staff = Annotated[Principal, Depends(require(*STAFF))]
OfficeStaff = Annotated[Principal, Depends(require(*OFFICE_STAFF))]
CityWide = Annotated[Principal, Depends(require(*CITY_WIDE))]
Reporter = Annotated[Principal, Depends(require(*REPORTERS))]
Admin = Annotated[Principal, Depends(require(*ADMINS))]
AnyRole = Annotated[Principal, Depends(require(*PEOPLE))]
DeviceGateway = Annotated[Principal, Depends(require(*DEVICE_GATEWAYS))]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


# --- conditional GET (RFC 9110 §13.1.2, §8.8.3) ---------------------------------------------------------------

IfNoneMatch = Annotated[str | None, Header(description="entity tags of a copy the client holds: a 304 when one "
                                                       "still matches (weak comparison)")]

# One element of an If-None-Match list: an optional weak prefix and a quoted opaque tag (which may hold commas).
_ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')


def _opaque(tag: str) -> str | None:
    """The opaque part of one entity tag (``W/"x"`` and ``"x"`` both give ``x``), None when malformed."""
    found = _ENTITY_TAG.fullmatch(tag)
    return found.group(2) if found else None


def _listed_tags(if_none_match: str) -> list[str] | None:
    """The opaque tags an If-None-Match list names, or None when the value does not parse as such a list."""
    tags: list[str] = []
    position, end = 0, len(if_none_match)
    while position < end:
        found = _ENTITY_TAG.match(if_none_match, position)
        if found is None:
            # Not a tag here: an empty list element (only spaces before the comma) is allowed, anything else is not.
            comma = if_none_match.find(",", position)
            if if_none_match[position:end if comma == -1 else comma].strip():
                return None
            position = end if comma == -1 else comma + 1
            continue
        tags.append(found.group(2))
        position = found.end()
        if position < end:
            if if_none_match[position] != ",":
                return None
            position += 1
    return tags


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match value names ``etag`` by weak comparison (RFC 9110 §8.8.3.2): ``W/`` is ignored on
    both sides, the value may list several tags (empty elements allowed, commas inside quotes are part of a tag),
    and ``*`` matches any current representation. A value that does not parse matches nothing, so the full
    answer is sent."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = _listed_tags(if_none_match)
    return tags is not None and _opaque(etag) in tags


def not_modified(if_none_match: str | None, etag: str, headers: Mapping[str, str]) -> Response | None:
    """A 304 carrying ``headers`` (ETag, Cache-Control, Vary) when If-None-Match still matches ``etag``, else
    None: the caller then sends the full answer with the same headers."""
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=dict(headers))
    return None
