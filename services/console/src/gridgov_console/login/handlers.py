"""The DEV login (开发登录): mint a token with the shared secret. A city replaces it with its SSO."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import httpx

from gridgov_common.auth import mint_token
from gridgov_common.errors import ErrorDetail, Unavailable, ValidationFailed
from gridgov_console.login.schemas import LoginBody, LoginRead
from gridgov_console.settings import ConsoleSettings

LEVEL_ZH = {"town": "镇街", "village": "村（社区）"}


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
    name = body.name.strip() if body.name and body.name.strip() else None
    token = mint_token(secret, sub=body.sub, role=body.role, department=department, grid=grid, name=name,
                       ttl_seconds=ttl_seconds)
    return LoginRead(token=token, expires_in=ttl_seconds, role=body.role, sub=body.sub, department=department,
                     grid=grid, name=name)


async def check_scope_known(client: httpx.AsyncClient, settings: ConsoleSettings, login: LoginRead) -> None:
    """The grid a grid worker or the department a dispatcher signs in for exists where the services keep it: a
    mistyped code signed in to an empty workbench with no word why. Asked with the token just minted (the
    registry's grid and dispatch's department list answer these roles); 422 naming the field when unknown, 503 when
    the service cannot say."""
    if login.grid is not None:
        await _check_grid(client, settings.registry_url, login.token, login.grid)
    if login.department is not None:
        await _check_department(client, settings.dispatch_url, login.token, login.department)


async def _ask(client: httpx.AsyncClient, url: str, token: str, service: str, service_zh: str) -> httpx.Response:
    """GET with the new token; 503 naming the service when it cannot be reached or fails."""
    try:
        resp = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        resp = None
        cause: str = type(exc).__name__
    else:
        cause = f"HTTP {resp.status_code}"
    if resp is None or resp.status_code not in (200, 404, 422):  # 404, 422: no such code (the registry's code shape)
        error = Unavailable(f"{service} cannot be reached to check the login's scope ({cause}); try again shortly")
        error.message_zh = f"{service_zh}暂时不可用，无法核对登录信息，请稍后重试"
        raise error
    return resp


async def _check_grid(client: httpx.AsyncClient, registry_url: str, token: str, grid: str) -> None:
    resp = await _ask(client, f"{registry_url.rstrip('/')}/v1/grids/{grid}", token, "grid-registry", "网格服务")
    level = None
    if resp.status_code == 200:
        try:
            level = resp.json().get("properties", {}).get("level")
        except (ValueError, AttributeError):
            level = None
    if level == "grid":
        return
    if level in LEVEL_ZH:
        reason, reason_zh = f"{grid} is a {level}, not a grid", f"{grid} 是{LEVEL_ZH[level]}编码，不是网格编码"
    else:
        reason, reason_zh = "no grid with this code in the grid set in effect", "当前网格版本中没有这个网格编码"
    error = ValidationFailed("a grid worker must name a grid of the city", [ErrorDetail("grid", reason, reason_zh)])
    error.message_zh = "负责网格编码有误"
    raise error


async def _check_department(client: httpx.AsyncClient, dispatch_url: str, token: str, department: str) -> None:
    resp = await _ask(client, f"{dispatch_url.rstrip('/')}/v1/departments", token, "dispatch", "派遣服务")
    try:
        codes = {d.get("code") for d in resp.json()} if resp.status_code == 200 else set()
    except (ValueError, AttributeError, TypeError):
        codes = set()
    if department in codes:
        return
    error = ValidationFailed("a department dispatcher must name a department of the city", [ErrorDetail(
        "department", "no department with this code", "没有这个部门编码")])
    error.message_zh = "所属部门编码有误"
    raise error
