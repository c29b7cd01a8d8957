"""The DEV login (开发登录): mint a token with the shared secret. A city replaces it with its SSO."""

from __future__ import annotations

from gridgov_common.auth import mint_token
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_console.login.schemas import LoginBody, LoginRead


def check_scope(body: LoginBody) -> None:
    """A dispatcher acts for a department and a grid worker for a grid: refuse a login that names neither."""
    if body.role == "dept_dispatcher" and not body.department:
        raise ValidationFailed("a department dispatcher must name a department",
                               [ErrorDetail("department", "required for role dept_dispatcher")])
    if body.role == "grid_worker" and not body.grid:
        raise ValidationFailed("a grid worker must name a grid", [ErrorDetail("grid", "required for role grid_worker")])


def log_in(secret: str, body: LoginBody, ttl_seconds: int) -> LoginRead:
    """A token for the principal the body names, after checking it names its department or grid."""
    check_scope(body)
    # Only the scope the role uses goes in the token: a dispatcher with a grid would confuse the services' checks.
    department = body.department if body.role == "dept_dispatcher" else None
    grid = body.grid if body.role == "grid_worker" else None
    token = mint_token(secret, sub=body.sub, role=body.role, department=department, grid=grid,
                       ttl_seconds=ttl_seconds)
    return LoginRead(token=token, expires_in=ttl_seconds, role=body.role, sub=body.sub, department=department,
                     grid=grid)
