"""Bearer tokens (JWT, HS256) carrying a role and the department or grid the caller acts for.

Roles: ``grid_worker`` (网格员, acts for a grid), ``dept_dispatcher`` (department dispatcher, acts for a
department), ``command_centre`` (指挥中心), ``admin``, ``citizen``. Every endpoint declares its roles with
``require(...)``: no or bad token → 401, wrong role → 403.
"""

from __future__ import annotations

import os
import secrets
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


def decode_token(secret: str, token: str) -> Principal:
    """Verify a token and return its principal; raises Unauthenticated with the reason."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["sub", "exp", "iss"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    if claims.get("role") not in ROLES:
        raise Unauthenticated("token has no valid role")
    return Principal(sub=claims["sub"], role=claims["role"], department=claims.get("department"),
                     grid=claims.get("grid"))


_bearer = HTTPBearer(auto_error=False, description="JWT from `gridgov token ROLE`")


def current_principal(request: Request,
                      credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    """The caller, from the Authorization header; 401 without a valid token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer token")
    return decode_token(request.app.state.jwt_secret, credentials.credentials)


def require(*roles: str):
    """A dependency that admits only these roles (403 otherwise) and returns the principal."""
    allowed = set(roles)

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role} may not do this; allowed: {', '.join(sorted(allowed))}")
        return principal

    dependency.__doc__ = f"Admits roles: {', '.join(sorted(allowed))}."
    return dependency
