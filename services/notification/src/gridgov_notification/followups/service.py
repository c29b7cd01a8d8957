"""Queries on follow-ups and the guarded write of an answer."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


def for_ticket(session: Session, ticket_id: str) -> list[Followup]:
    """Every follow-up of a ticket, oldest first."""
    return list(session.exec(select(Followup).where(Followup.ticket_id == ticket_id)
                             .order_by(col(Followup.created_at), col(Followup.reporter_id))).all())


def insert_new(session: Session, rows: list[dict]) -> set[str]:
    """Insert follow-up rows in one statement, skipping any whose (event, reporter) exists (a redelivered
    ``ticket.closed`` asks nobody twice); returns the reporter ids inserted. Plain rows, not ORM objects: one
    statement instead of a look-up and a flush per closed ticket (#18)."""
    if not rows:
        return set()
    stmt = _INSERT_NEW[session.get_bind().dialect.name == "postgresql"]
    return set(session.execute(stmt, rows).scalars())


def _insert_new(insert) -> object:  # noqa: ANN001 - a dialect's insert()
    table = Followup.__table__
    return (insert(table).on_conflict_do_nothing(index_elements=["event_id", "reporter_id"])
            .returning(table.c.reporter_id))


# Built once (compiled once, then cached): statements built with .values(rows) are compiled on every call.
_INSERT_NEW = {False: _insert_new(sqlite_insert), True: _insert_new(pg_insert)}


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

