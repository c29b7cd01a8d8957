"""The DEV login (开发登录): mint a token with the shared secret. A city replaces it with its SSO."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from gridgov_common.auth import mint_token
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_console.login.schemas import LoginBody, LoginRead


@dataclass(frozen=True)
class DevLoginSwitch:
    """Whether the DEV login is on here, and why (logged at start, shown in a refusal)."""

    enabled: bool
    reason: str


def is_loopback(host: str) -> bool:
    """True for a listen address only this machine reaches: 127.0.0.0/8, ::1 or ``localhost``."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def dev_login_switch(setting: bool | None, host: str, kafka_bootstrap_servers: str | None) -> DevLoginSwitch:
    """Decide the DEV login (开发登录): as set when set; unset, on only for the embedded default stack (no Kafka)
    with the console bound to loopback, which is `gridgov up` on a developer's machine."""
    if setting is True:
        return DevLoginSwitch(True, "switched on explicitly (GRIDGOV_CONSOLE_DEV_LOGIN=true)")
    if setting is False:
        return DevLoginSwitch(False, "switched off (GRIDGOV_CONSOLE_DEV_LOGIN=false)")
    if kafka_bootstrap_servers:
        return DevLoginSwitch(False, "off by default on the distributed stack (Kafka is configured)")
    if not is_loopback(host):
        return DevLoginSwitch(False, f"off by default: the console listens on {host}, beyond loopback")
    return DevLoginSwitch(True, f"the embedded default stack on loopback ({host})")


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
