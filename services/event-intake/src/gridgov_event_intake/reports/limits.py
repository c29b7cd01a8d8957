"""Rate limits whose state is in intake's database, so that every instance of intake counts the same requests.

The counts come from rows every instance writes (reports, media, ``rate_hit``), never from process memory:
with several intake instances behind a load balancer on the distributed stack, a caller cannot multiply its
allowance by the number of instances. The check is a read, then a write: requests checked at the very same
instant (in two instances, or two threads) may all pass, so a limit can be overshot by the requests racing at
that instant, never by a factor of the number of instances.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import select
from starlette.requests import Request

from gridgov_common.db import Database
from gridgov_common.deps import runtime_of
from gridgov_common.errors import RateLimited
from gridgov_common.runtime import ServiceRuntime
from gridgov_event_intake.open311.models import ApiClient
from gridgov_event_intake.open311.render import hash_api_key
from gridgov_event_intake.reports import ratelimit
from gridgov_event_intake.reports.models import RateHit


def caller_address(request: Request) -> str | None:
    """The caller's address: the ASGI peer, or X-Forwarded-For's when the peer is a listed trusted proxy."""
    peer = request.client.host if request.client else None
    return ratelimit.client_address(peer, request.headers.get("x-forwarded-for"),
                                    runtime_of(request.app).settings.trusted_proxies)


def open311_subject(client: str | None, address: str | None) -> tuple[str, str]:
    """The subject an Open311 POST is counted under, and the field a refusal names: the client its api_key
    belongs to, or, without a valid key, the source address (so that rotating made-up keys gains nothing)."""
    if client:
        return f"open311:client:{client}", "api_key"
    return f"open311:addr:{address or 'unknown'}", "source_address"


def hit(db: Database, subject: str, field_name: str, limit: int, window: timedelta) -> None:
    """Count one request of ``subject``; 429 naming ``field_name`` when ``limit`` were counted in the window.

    A refused request is not counted, so Retry-After stays true for a client that waits as told.
    """
    now = datetime.now(UTC)
    with db.session() as session:
        # Rows out of the window count for no one any more (any subject's: they would pile up otherwise).
        session.exec(delete(RateHit).where(RateHit.at < now - window))
        times = session.exec(select(RateHit.at).where(RateHit.subject == subject, RateHit.at >= now - window)
                             .order_by(RateHit.at.desc()).limit(max(limit, 1))).all()
        wait = ratelimit.retry_after(list(times), now, limit, window)  # aware: sqlmodel's UTCDateTime
        if wait is None:
            session.add(RateHit(subject=subject, at=now))
        session.commit()
    if wait is not None:
        raise RateLimited(field_name, f"at most {limit} requests per {int(window.total_seconds())}s", wait)


def check_open311_post(request: Request, runtime: ServiceRuntime, api_key: str | None) -> None:
    """Count an Open311 POST against its api_key's client (without a valid key, against its source address);
    429 over the limit. Counted before the request is otherwise checked, so that guessing keys is limited too.
    """
    client = None
    if api_key:
        with runtime.db.session() as session:
            client = session.exec(select(ApiClient.name).where(
                ApiClient.key_hash == hash_api_key(api_key))).first()
    subject, field_name = open311_subject(client, caller_address(request))
    hit(runtime.db, subject, field_name, runtime.settings.open311_limit,
        timedelta(seconds=runtime.settings.open311_window_seconds))
