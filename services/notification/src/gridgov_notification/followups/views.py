"""HTTP routes of follow-ups (thin: parse, authorise, call a handler). The link's token is the credential."""

from typing import Annotated

from fastapi import APIRouter, Path

from gridgov_common.deps import MaybePrincipal, Runtime
from gridgov_notification.followups import handlers
from gridgov_notification.followups.schemas import TOKEN_MAX, FollowupAnswer, FollowupRead

router = APIRouter(prefix="/v1/followups", tags=["followups"])

Token = Annotated[str, Path(min_length=1, max_length=TOKEN_MAX, description="the token of the follow-up link")]


@router.get("/{token}", response_model=FollowupRead)
def get_followup(token: Token, runtime: Runtime) -> FollowupRead:
    """The outcome of the reporter's ticket and whether they answered. Who: anyone holding the link (no login)."""
    return handlers.show(runtime.db, token)


@router.post("/{token}", response_model=FollowupRead)
def post_followup(token: Token, body: FollowupAnswer, runtime: Runtime, principal: MaybePrincipal) -> FollowupRead:
    """Answer the follow-up once (solved, satisfaction 1–5, comment). Who: the holder of the link, no login; a
    hotline call-back: a command_centre operator, on the caller's behalf. 409 answered, 410 expired."""
    return handlers.answer(runtime.db, token, body, principal)
