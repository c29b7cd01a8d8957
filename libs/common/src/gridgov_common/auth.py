"""Bearer tokens (JWT, HS256) carrying a role and the department or grid the caller acts for.

Roles: ``grid_worker`` (网格员, acts for a grid), ``dept_dispatcher`` (department dispatcher, acts for a
department), ``command_centre`` (指挥中心), ``admin``, ``citizen``. Every endpoint declares its roles with
``require(...)``: no or bad token → 401, wrong role → 403.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from gridgov_common.errors import Forbidden, Unauthenticated
from gridgov_common.settings import CommonSettings

Role = Literal["grid_worker", "dept_dispatcher", "command_centre", "admin", "citizen"]
ROLES: tuple[str, ...] = ("grid_worker", "dept_dispatcher", "command_centre", "admin", "citizen")
ALGORITHM = "HS256"
ISSUER = "gridgov"


class Principal(BaseModel):
    """Who is calling: subject, role, and the department or grid they act for."""

    sub: str
    role: Role
    department: str | None = None
    grid: str | None = None

    @property
    def inbox_addresses(self) -> list[str]:
        """The inbox addresses this principal reads: themselves, and their department or grid."""
        addresses = [f"user:{self.sub}"]
        if self.department:
            addresses.append(f"department:{self.department}")
        if self.grid:
            addresses.append(f"grid:{self.grid}")
        if self.role == "command_centre":
            addresses.append("role:command_centre")
        return addresses


def load_secret(common: CommonSettings) -> str:
    """The signing secret: ``GRIDGOV_JWT_SECRET``, else one generated once per data directory (never in git)."""
    if common.jwt_secret:
        return common.jwt_secret
    path = Path(common.data_dir) / "jwt.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another service created it first
    return path.read_text().strip()


def mint_token(secret: str, *, sub: str, role: str, department: str | None = None, grid: str | None = None,
               ttl_seconds: int = 12 * 3600) -> str:
    """Sign a token for a principal."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    now = datetime.now(UTC)
    claims = {"sub": sub, "role": role, "iss": ISSUER, "iat": now, "exp": now + timedelta(seconds=ttl_seconds)}
    if department:
        claims["department"] = department
    if grid:
        claims["grid"] = grid
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _verify(secret: str, token: str) -> tuple[Principal, float]:
    """The token's principal and expiry (epoch seconds); raises Unauthenticated with the reason."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["sub", "exp", "iss"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    if claims.get("role") not in ROLES:
        raise Unauthenticated("token has no valid role")
    principal = Principal(sub=claims["sub"], role=claims["role"], department=claims.get("department"),
                          grid=claims.get("grid"))
    return principal, float(claims["exp"])


def decode_token(secret: str, token: str) -> Principal:
    """Verify a token and return its principal; raises Unauthenticated with the reason."""
    return _verify(secret, token)[0]


class VerifiedTokens:
    """A bounded LRU of tokens already verified, each until its expiry: a client sends the same token with
    every request, and checking its signature and claims again each time is most of an endpoint's auth cost.

    Only tokens that passed verification are kept, so a bad token is checked (and refused) every time.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def decode(self, secret: str, token: str) -> Principal:
        """``decode_token``, from the cache while the token has not expired."""
        key = (secret, token)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                if time.time() < hit[1]:  # PyJWT's rule: expired once now >= exp
                    self._entries.move_to_end(key)
                    return hit[0].model_copy()
                del self._entries[key]
        principal, expires = _verify(secret, token)
        with self._lock:
            self._entries[key] = (principal, expires)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return principal.model_copy()


_verified = VerifiedTokens()


_bearer = HTTPBearer(auto_error=False, description="JWT from `gridgov token ROLE`")


# The dependencies below are async on purpose: they do no I/O, and a sync dependency costs a thread hop.
async def current_principal(request: Request,
                            credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    """The caller, from the Authorization header; 401 without a valid token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer token")
    return _verified.decode(request.app.state.jwt_secret, credentials.credentials)


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


def require(*roles: str):
    """A dependency that admits only these roles (403 otherwise) and returns the principal."""
    return _RoleBearer(roles)
