"""HTTP routes of follow-ups (thin: parse, authorise, call a handler). The link's token is the credential."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gridgov_common.auth import Principal, current_principal
from gridgov_notification.followups import handlers
from gridgov_notification.followups.schemas import TOKEN_MAX, FollowupAnswer, FollowupRead

router = APIRouter(prefix="/v1/followups", tags=["followups"])

Token = Annotated[str, Path(min_length=1, max_length=TOKEN_MAX, description="the token of the follow-up link")]
_optional_bearer = HTTPBearer(auto_error=False, description="only a 12345 operator (command_centre) recording a "
                                                            "hotline call-back logs in")


async def optional_principal(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_optional_bearer)]) -> Principal | None:
    """The caller if they sent a bearer token (401 if it is invalid), None without one."""
    if credentials is None:
        return None
    return await current_principal(request, credentials)


@router.get("/{token}", response_model=FollowupRead)
def get_followup(token: Token, request: Request) -> FollowupRead:
    """The outcome of the reporter's ticket and whether they answered. Who: anyone holding the link (no login)."""
    return handlers.show(request.app.state.runtime.db, token)


@router.post("/{token}", response_model=FollowupRead)
def post_followup(token: Token, body: FollowupAnswer, request: Request,
                  principal: Annotated[Principal | None, Depends(optional_principal)]) -> FollowupRead:
    """Answer the follow-up once (solved, satisfaction 1–5, comment). Who: the holder of the link, no login; a
    hotline call-back: a command_centre operator, on the caller's behalf. 409 answered, 410 expired."""
    return handlers.answer(request.app.state.runtime.db, token, body, principal)
