"""The geofence check of on-site evidence inside a ticket use case (核查, 处置反馈, 自行处置).

Gathers what the pure verdict (``verification.geofence``) needs — the ticket grid's learned boundary, the learned
facts of the submitted photos, the perceptual hashes seen earlier in the case and in the grid's recent cases —
and turns a refusing verdict into the 422 the API answers. Called by ``tickets.handlers``; the caller owns the
transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.tickets import service
from gridgov_dispatch.tickets.models import Ticket
from gridgov_dispatch.verification import geofence
from gridgov_dispatch.verification import service as learned

MEDIA_POLL_SECONDS = 0.1


def thresholds(settings: DispatchSettings) -> geofence.Thresholds:
    """The verdict's limits from dispatch's settings."""
    return geofence.Thresholds(
        boundary_tolerance_m=settings.geofence_boundary_tolerance_m,
        accuracy_widens_boundary=settings.geofence_accuracy_widens_boundary,
        accuracy_max_m=settings.geofence_accuracy_max_m,
        fix_max_age=timedelta(seconds=settings.geofence_fix_max_age_s),
        fix_future_skew=timedelta(seconds=settings.geofence_fix_future_skew_s),
        exif_distance_max_m=settings.geofence_exif_distance_max_m,
        photo_time_max=timedelta(seconds=settings.geofence_photo_time_max_s),
        phash_distance_max=settings.geofence_phash_distance_max,
    )


def media_ids(photos: Sequence[str]) -> list[str]:
    """The entries of a photo list that are media ids (intake's uploads), not URLs."""
    return [p for p in photos if "/" not in p and ":" not in p]


def await_media(ctx: DispatchContext, photos: Sequence[str]) -> None:
    """Wait up to ``geofence_media_wait_s`` for photos uploaded a moment ago to be learned (``media.stored`` may
    trail the upload's answer on the bus); a photo still unknown then is judged as unknown (never inside).

    Runs before the use case's transaction: on SQLite that transaction holds the one connection.
    """
    wanted = set(media_ids(photos))
    deadline = time.monotonic() + ctx.settings.geofence_media_wait_s
    while wanted:
        with ctx.db.session() as session:
            wanted -= learned.known_media_ids(session, wanted)
        if not wanted or time.monotonic() >= deadline:
            return
        time.sleep(MEDIA_POLL_SECONDS)


def judge(ctx: DispatchContext, session: Session, ticket: Ticket, fix: geofence.FixLike | None,
          photos: Sequence[str], now: datetime) -> geofence.Verdict:
    """The geofence verdict of evidence submitted on a ticket, before its transition is recorded."""
    settings = ctx.settings
    row = learned.grid(session, ticket.grid_code) if ticket.grid_code else None
    boundary = geofence.boundary_from_geojson(row.grid_code, row.boundary) if row and row.boundary else None
    known = learned.media(session, photos)
    facts = [geofence.PhotoFacts(p, True, m.phash, m.exif_lat, m.exif_lon, m.exif_taken_at) if (m := known.get(p))
             else geofence.PhotoFacts(p, known=False) for p in photos]
    case_hashes = learned.hashes(session, service.case_photo_ids(session, ticket.id))
    grid_hashes: set[str] = set()
    if ticket.grid_code and settings.geofence_reuse_days > 0:
        since = now - timedelta(days=settings.geofence_reuse_days)
        grid_hashes = learned.hashes(session, service.grid_photo_ids(session, ticket.grid_code, since, ticket.id))
    return geofence.verdict(fix, boundary, facts, case_hashes=case_hashes, grid_hashes=grid_hashes, now=now,
                            thresholds=thresholds(settings))


def refusal(verdict: geofence.Verdict) -> ValidationFailed:
    """The 422 of a refusing verdict: one detail per refusing reason, naming the field of the fix it refuses."""
    reasons = verdict.refusals
    error = ValidationFailed(
        "the device fix does not show the evidence was taken in the ticket's grid: "
        + "; ".join(r.message_en for r in reasons),
        [ErrorDetail(r.field or "fix", r.message_en, reason_zh=r.message) for r in reasons])
    error.message_zh = "现场核验未通过：" + "；".join(r.message for r in reasons)
    return error


def columns(verdict: geofence.Verdict) -> dict[str, Any]:
    """The ticket columns that keep its latest verdict."""
    return {"geofence_verdict": verdict.verdict,
            "geofence_reasons": json.dumps([r.to_data() for r in verdict.reasons], ensure_ascii=False),
            "geofence_checked_at": verdict.checked_at}
