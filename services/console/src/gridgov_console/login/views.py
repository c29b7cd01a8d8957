"""HTTP route of the DEV login (thin: parse, call, shape)."""

from fastapi import APIRouter, Request

from gridgov_common.errors import Forbidden
from gridgov_console.login.handlers import log_in
from gridgov_console.login.schemas import LoginBody, LoginRead

router = APIRouter(prefix="/api", tags=["login"])


@router.post("/login", response_model=LoginRead)
def post_login(body: LoginBody, request: Request) -> LoginRead:
    """DEV login: a bearer token for the role, user id and department or grid given, signed with the shared secret.

    Anyone who reaches the console may sign in as anyone: for the embedded stack and trials only. A city sets
    ``GRIDGOV_CONSOLE_DEV_LOGIN=false`` and signs users in through its SSO."""
    settings = request.app.state.settings
    if not settings.dev_login:
        raise Forbidden("the DEV login is switched off; sign in through the city's SSO", "login")
    return log_in(request.app.state.jwt_secret, body, settings.common.token_ttl_seconds)
