"""Queries on follow-ups and the guarded write of an answer."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from gridgov_common.errors import Conflict, ErrorDetail, NotFound
from gridgov_notification.followups.models import Followup


def get(session: Session, token: str) -> Followup | None:
    """The follow-up of a token, or None."""
    return session.get(Followup, token)


def get_or_raise(session: Session, token: str) -> Followup:
    """The follow-up of a token, or NotFound (the token is not echoed: it is a credential)."""
    followup = get(session, token)
    if followup is None:
        raise NotFound("followup", "for this token")
    return followup


def reporters_asked(session: Session, event_id: str) -> set[str]:
    """The reporters a ticket.closed event already gave a follow-up (a redelivery asks nobody twice)."""
    return set(session.exec(select(Followup.reporter_id).where(Followup.event_id == event_id)).all())


def for_ticket(session: Session, ticket_id: str) -> list[Followup]:
    """Every follow-up of a ticket, oldest first."""
    return list(session.exec(select(Followup).where(Followup.ticket_id == ticket_id)
                             .order_by(col(Followup.created_at), col(Followup.reporter_id))).all())


def add_all(session: Session, followups: list[Followup]) -> None:
    """Stage new follow-ups; UNIQUE (event_id, reporter_id) is the last guard against a concurrent duplicate."""
    session.add_all(followups)
    session.flush()


def record_answer(session: Session, followup: Followup, values: dict) -> None:
    """Write the answer only if nobody answered meanwhile (``WHERE answered_at IS NULL``); else Conflict."""
    table = Followup.__table__
    result = session.exec(update(table).where(table.c.token == followup.token, table.c.answered_at.is_(None))
                          .values(**values))
    if result.rowcount != 1:
        raise Conflict("this follow-up has already been answered",
                       [ErrorDetail("token", "answered already: a follow-up takes one answer")], "already_answered")
    for name, value in values.items():
        set_committed_value(followup, name, value)

