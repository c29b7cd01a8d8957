"""The citizen's login (市民登录): a phone confirmed by an SMS code, or anonymous with the phone's device id.

The console mints the citizen's token with the shared secret, as it mints DEV tokens; unlike the DEV login it is
meant for production, because it proves something: notification confirmed the phone (the code reached it), or,
anonymously, the token stands for one random device id and nothing more (intake's per-device, per-address and
global limits bound what it can file). The subject never reveals the phone or the device id: it is a keyed hash
(HMAC-SHA256 with ``citizen_subject_key``, else a key derived from the shared secret), stable across logins so
that "my reports" and the reward ledger follow the citizen.

With the city's OpenID Connect on, these tokens (``iss`` gridgov) are verified like every local token: they work
while ``GRIDGOV_OIDC_ACCEPT_LOCAL_TOKENS`` is true. A city that refuses local tokens signs its citizens in through
its own provider (its app or mini-program issuing role ``citizen``); the console then switches this login off
rather than mint tokens every service would refuse.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import httpx

from gridgov_common.auth import mint_token
from gridgov_common.errors import ErrorDetail, Forbidden, Unauthenticated, Unavailable
from gridgov_common.settings import CommonSettings
from gridgov_console.login.schemas import CitizenLoginRead
from gridgov_console.settings import ConsoleSettings

CONFIRMED_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


def citizen_login_state(settings: ConsoleSettings) -> tuple[bool, str]:
    """Whether the citizen login is on here, and why not when it is off."""
    if not settings.citizen_login:
        return False, "switched off (GRIDGOV_CONSOLE_CITIZEN_LOGIN=false)"
    if refuses_local_tokens(settings.common):
        return False, ("the services accept only the city's identity provider's tokens "
                       "(GRIDGOV_OIDC_ACCEPT_LOCAL_TOKENS=false): citizens sign in through it")
    return True, "on"


def refuses_local_tokens(common: CommonSettings) -> bool:
    """Whether the services refuse the tokens minted here (OIDC on with local tokens off)."""
    return bool(common.oidc_issuer) and not common.oidc_accept_local_tokens


def check_enabled(settings: ConsoleSettings, *, anonymous: bool = False) -> None:
    """403 naming ``login`` when the citizen login (or its anonymous way) is off here."""
    enabled, why = citizen_login_state(settings)
    if enabled and anonymous and not settings.citizen_anonymous:
        enabled, why = False, "anonymous reporting is switched off (GRIDGOV_CONSOLE_CITIZEN_ANONYMOUS=false)"
    if not enabled:
        error = Forbidden(f"the citizen login is off here: {why}", "login")
        error.message_zh = "本平台未开放市民登录"
        raise error


def subject_key(settings: ConsoleSettings, secret: str) -> bytes:
    """The key of citizen subjects: the setting, else derived from the shared secret (never the secret itself)."""
    if settings.citizen_subject_key:
        return settings.citizen_subject_key.get_secret_value().encode()
    return hmac.new(secret.encode(), b"gridgov-console-citizen-subject", hashlib.sha256).digest()


def citizen_subject(key: bytes, kind: str, value: str) -> str:
    """A citizen's subject: ``c-`` (a confirmed phone) or ``anon-`` (a device) and 24 hex of a keyed hash."""
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:24]
    return f"{'c' if kind == 'phone' else 'anon'}-{digest}"


def mint(secret: str, settings: ConsoleSettings, kind: str, value: str) -> CitizenLoginRead:
    """A citizen token for a confirmed phone or a device id."""
    sub = citizen_subject(subject_key(settings, secret), kind, value)
    ttl = settings.citizen_token_ttl_s
    token = mint_token(secret, sub=sub, role="citizen", ttl_seconds=ttl)
    return CitizenLoginRead(token=token, expires_in=ttl, role="citizen", sub=sub, department=None, grid=None,
                            anonymous=kind != "phone", phone=value if kind == "phone" else None)


async def confirmed_phone(client: httpx.AsyncClient, notification_url: str, request_id: str, phone: str, code: str,
                          language: str | None) -> tuple[str | None, httpx.Response | None]:
    """Ask notification to confirm the code: (the confirmed phone, None), or (None, its refusal to pass back).

    Anything but a 200 carrying an 11-digit phone is no confirmation (fail closed)."""
    url = f"{notification_url.rstrip('/')}/v1/phone-codes/{request_id}/confirm"
    headers = {"Accept-Language": language} if language else {}
    try:
        resp = await client.post(url, json={"phone": phone, "code": code}, headers=headers)
    except httpx.HTTPError as exc:
        error = Unavailable(f"notification cannot be reached to confirm the code ({type(exc).__name__})")
        error.message_zh = "验证服务暂时不可用，请稍后重试"
        raise error from exc
    if resp.status_code != 200:
        return None, resp
    try:
        confirmed = resp.json().get("phone")
    except (ValueError, AttributeError):
        confirmed = None
    if not isinstance(confirmed, str) or not CONFIRMED_PHONE.fullmatch(confirmed):
        error = Unauthenticated("the phone was not confirmed")
        error.details = [ErrorDetail("code", "notification did not confirm this code", "验证码未通过验证")]
        error.message_zh = "手机号未通过验证"
        raise error
    return confirmed, None
