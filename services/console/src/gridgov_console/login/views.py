"""HTTP routes of the DEV login (thin: parse, call, shape)."""

from fastapi import APIRouter

from gridgov_common.errors import Forbidden
from gridgov_console.deps import DevLogin, Settings, SigningSecret
from gridgov_console.login.handlers import log_in
from gridgov_console.login.schemas import LoginBody, LoginOptions, LoginRead

router = APIRouter(prefix="/api", tags=["login"])


@router.get("/login", response_model=LoginOptions)
def get_login(switch: DevLogin) -> LoginOptions:
    """How to sign in: whether the DEV login is on, so the page offers it or points to the city's SSO.
    Who: anyone (the page asks before anyone has signed in)."""
    return LoginOptions(dev_login=switch.enabled)


@router.post("/login", response_model=LoginRead)
def post_login(body: LoginBody, switch: DevLogin, settings: Settings, secret: SigningSecret) -> LoginRead:
    """DEV login: a bearer token for the role, user id and department or grid given, signed with the shared secret.

    Anyone who reaches the console may sign in as anyone, so it is on only for the embedded default stack on
    loopback or when ``GRIDGOV_CONSOLE_DEV_LOGIN=true``; otherwise 403, and users sign in through the city's SSO."""
    if not switch.enabled:
        raise Forbidden(f"the DEV login is off here ({switch.reason}); sign in through the city's SSO", "login")
    return log_in(secret, body, settings.common.token_ttl_seconds)
