"""HTTP routes of the DEV login (thin: parse, call, shape)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridgov_common.errors import Forbidden
from gridgov_console.deps import DevLogin, Settings, SigningSecret, Upstream
from gridgov_console.login import citizen
from gridgov_console.login.handlers import check_scope_known, log_in
from gridgov_console.login.schemas import (
    CitizenAnonymousLogin,
    CitizenLoginRead,
    CitizenPhoneLogin,
    LoginBody,
    LoginOptions,
    LoginRead,
)

router = APIRouter(prefix="/api", tags=["login"])


@router.get("/login", response_model=LoginOptions)
def get_login(switch: DevLogin, settings: Settings) -> LoginOptions:
    """How to sign in: whether the DEV login is on, so the page offers it or points to the city's SSO, and whether
    citizens may sign in here. Who: anyone (the page asks before anyone has signed in)."""
    citizens, _why = citizen.citizen_login_state(settings)
    return LoginOptions(dev_login=switch.enabled, citizen_phone=citizens,
                        citizen_anonymous=citizens and settings.citizen_anonymous)


@router.post("/login", response_model=LoginRead, responses={
    503: {"description": "grid-registry or dispatch could not say whether the grid or department exists"}})
async def post_login(body: LoginBody, switch: DevLogin, settings: Settings, secret: SigningSecret,
                     client: Upstream) -> LoginRead:
    """DEV login: a bearer token for the role, user id and department or grid given, signed with the shared secret;
    the grid (grid-registry's grid set in effect) or department (dispatch's) must exist, else 422 naming it.

    Anyone who reaches the console may sign in as anyone, so it is on only for the embedded default stack on
    loopback or when ``GRIDGOV_CONSOLE_DEV_LOGIN=true``; otherwise 403, and users sign in through the city's SSO."""
    if not switch.enabled:
        raise Forbidden(f"the DEV login is off here ({switch.reason}); sign in through the city's SSO", "login")
    login = log_in(secret, body, settings.common.token_ttl_seconds)
    await check_scope_known(client, settings, login)
    return login


@router.post("/citizen/login", response_model=CitizenLoginRead, responses={
    401: {"description": "notification did not confirm the code"},
    409: {"description": "notification's refusal, passed back: the code was used, or locked after wrong tries"}})
async def post_citizen_login(body: CitizenPhoneLogin, request: Request, settings: Settings, secret: SigningSecret,
                             client: Upstream) -> CitizenLoginRead | Response:
    """A citizen's token for a phone confirmed by the SMS code (from notification's ``POST /v1/phone-codes``).
    Notification's refusal (wrong code 422, locked 409, expired 410, unknown 404) is passed back as it came; the
    token's subject is a keyed hash of the phone. Who: anyone holding the code; 403 where the citizen login is off."""
    citizen.check_enabled(settings)
    phone, refusal = await citizen.confirmed_phone(client, settings.notification_url, body.request_id, body.phone,
                                                   body.code, request.headers.get("accept-language"))
    if refusal is not None:
        return Response(refusal.content, status_code=refusal.status_code,
                        media_type=refusal.headers.get("content-type", "application/json"))
    return citizen.mint(secret, settings, "phone", phone)


@router.post("/citizen/anonymous", response_model=CitizenLoginRead)
def post_citizen_anonymous(body: CitizenAnonymousLogin, settings: Settings, secret: SigningSecret) -> CitizenLoginRead:
    """A citizen's token for reporting without a phone (匿名举报): it stands for the page's random device id, its
    subject a keyed hash of it. Who: anyone; 403 where the citizen login or anonymous reporting is off."""
    citizen.check_enabled(settings, anonymous=True)
    return citizen.mint(secret, settings, "device", body.device_id)
