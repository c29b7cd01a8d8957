"""Queries of the seat assistant (classifier versions, correction examples) and the classifier in use, cached.

``current_classifier`` keeps one classifier per database in this process and checks the active version at most
every ``REFRESH_SECONDS`` (one indexed query): a model activated by ``gridgov assist train`` in another process
takes effect here within that time. ``suggest`` is what the hotline channel calls at submission.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from gridgov_common.db import Database
from gridgov_event_intake.assist.model import ArtefactInvalid, Classification, Classifier
from gridgov_event_intake.assist.models import AssistExample, AssistModel

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0


def active_version(session: Session) -> str | None:
    """The version in use, or None before any model is activated."""
    return session.exec(select(AssistModel.version).where(AssistModel.active)).first()


def get_active(session: Session) -> AssistModel | None:
    """The model in use, with its artefact, or None."""
    return session.exec(select(AssistModel).where(AssistModel.active)).first()


def get(session: Session, version: str) -> AssistModel | None:
    """One stored version."""
    return session.get(AssistModel, version)


def next_version(session: Session, now: datetime) -> str:
    """A new version name: ``v<n>-<UTC time>``, n counting the stored versions."""
    count = session.exec(select(func.count()).select_from(AssistModel)).one()
    return f"v{count + 1}-{now.strftime('%Y%m%dT%H%M%SZ')}"


def add_model(session: Session, model: AssistModel, activate: bool) -> None:
    """Store a trained version; when activated, the one in use before is not any more. The caller commits."""
    if activate:
        session.exec(update(AssistModel).where(AssistModel.active).values(active=False))  # type: ignore[call-overload]
        model.active = True
        model.activated_at = model.created_at
    session.add(model)


def correction_examples(session: Session) -> list[tuple[str, str]]:
    """The texts the city's corrections labelled, as (text, middle code), oldest first."""
    rows = session.exec(select(AssistExample.text, AssistExample.code).order_by(AssistExample.id)).all()
    return [(t, c) for t, c in rows]


@dataclass
class _Cached:
    version: str | None
    classifier: Classifier
    checked_at: float


_cache: weakref.WeakKeyDictionary[Database, _Cached] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def current_classifier(db: Database) -> Classifier:
    """The classifier of the active version (one that answers "no_model" before any), cached in this process
    and reloaded when the active version changes."""
    cached = _cache.get(db)
    now = time.monotonic()
    if cached is not None and now - cached.checked_at < REFRESH_SECONDS:
        return cached.classifier
    with _lock:
        cached = _cache.get(db)
        if cached is not None and now - cached.checked_at < REFRESH_SECONDS:
            return cached.classifier
        with db.session() as session:
            version = active_version(session)
            if cached is not None and cached.version == version:
                cached.checked_at = now
                return cached.classifier
            row = get(session, version) if version else None
            data = row.artefact if row else None
        classifier = Classifier(None)
        if data is not None:
            try:
                classifier = Classifier.from_bytes(data)
                classifier.version = version  # the stored row names the version (its artefact names the same)
                classifier.warm()
            except ArtefactInvalid:
                log.exception("assist model %s: unreadable artefact; answering no_model", version)
                classifier = Classifier(None)
        _cache[db] = _Cached(version, classifier, time.monotonic())
        return classifier


def forget(db: Database) -> None:
    """Drop this process's classifier of ``db`` (after activating a version here: the next call reloads)."""
    with _lock:
        _cache.pop(db, None)


def preload(db: Database) -> threading.Thread:
    """Load the classifier in use in a background thread (artefact, segmenter dictionary: seconds and tens of
    MB) so that startup, ``/readyz`` and the first report do not wait for it and the first classify finds it
    loaded; a classify arriving meanwhile waits on the same lock instead of loading it twice."""

    def load() -> None:
        started = time.perf_counter()
        try:
            version = current_classifier(db).version
        except Exception:  # noqa: BLE001 - a failed preload only means the first classify loads it
            log.warning("assist: preloading the classifier failed; the first classify will load it", exc_info=True)
            return
        log.info("assist: classifier %s preloaded in %.2f s", version, time.perf_counter() - started)

    thread = threading.Thread(target=load, name="assist-preload", daemon=True)
    thread.start()
    return thread


def suggest(db: Database, text: str) -> Classification:
    """The classifier's suggestion for a text (the hotline channel records it beside the operator's choice)."""
    return current_classifier(db).classify(text)


def now_utc() -> datetime:
    """The current UTC time (one place to read the clock)."""
    return datetime.now(UTC)
