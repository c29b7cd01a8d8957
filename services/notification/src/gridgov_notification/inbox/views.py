"""HTTP routes of the inbox (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Query

from gridgov_common.deps import AnyRole, Runtime
from gridgov_notification.inbox import handlers
from gridgov_notification.inbox.models import InboxMessage
from gridgov_notification.inbox.schemas import LIMIT_DEFAULT, LIMIT_MAX, InboxMessageRead, InboxPage

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])


def _read(message: InboxMessage) -> InboxMessageRead:
    return InboxMessageRead.model_validate({**message.model_dump(), "unread": message.read_at is None})


@router.get("", response_model=InboxPage)
def get_inbox(runtime: Runtime, principal: AnyRole,
              limit: Annotated[int, Query(ge=1, le=LIMIT_MAX, description="page size")] = LIMIT_DEFAULT,
              offset: Annotated[int, Query(ge=0, le=2**62, description="messages to skip, newest first")] = 0,
              unread: Annotated[bool, Query(description="only messages not yet read")] = False) -> InboxPage:
    """The caller's inbox, newest first: messages to them, their department, grid or role. Who: anyone."""
    page = handlers.read_inbox(runtime.db, principal, unread_only=unread, limit=limit,
                               offset=offset)
    return InboxPage(items=[_read(m) for m in page.items], total=page.total, unread=page.unread,
                     limit=limit, offset=offset)


@router.post("/{message_id}/read", response_model=InboxMessageRead)
def post_inbox_read(message_id: str, runtime: Runtime, principal: AnyRole) -> InboxMessageRead:
    """Mark a message read. Who: a recipient of it; anyone else gets 404."""
    return _read(handlers.mark_read(runtime.db, principal, message_id))
