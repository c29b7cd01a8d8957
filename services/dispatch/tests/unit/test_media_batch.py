"""The media consumer writes a polled batch's photos as one insert at commit (issue #18): the first facts of a
photo are kept (a redelivery or a second copy in the same batch changes nothing), a photo known before stays as it
was, a batch stores what one message at a time stores, and a read in the same transaction sees the staged photos —
on SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.db import Database
from gridgov_common.events.media import MEDIA_STORED_TYPE, MediaStored
from gridgov_common.migrations import upgrade_to_head
from gridgov_common.settings import CommonSettings
from gridgov_dispatch.app import MIGRATIONS
from gridgov_dispatch.catalog import service as catalogs
from gridgov_dispatch.consumers import MEDIA, consumer_specs
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.tables import metadata
from gridgov_dispatch.verification import service
from gridgov_dispatch.verification.models import LearnedMedia

STORED = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dispatch.db'}"
    return request.getfixturevalue("pg_url")


def photo(media_id: str | None = None, *, sha: str = "a", lat: float | None = 23.02,
          stored_at: datetime = STORED) -> Envelope:
    """A media.stored envelope as intake publishes it (a new envelope id each time)."""
    media_id = media_id or str(uuid.uuid4())
    payload = MediaStored(media_id=media_id, uploaded_by="gw-7", uploader_role="grid_worker",
                          content_type="image/jpeg", sha256=sha * 64, phash="0f0f0f0f0f0f0f0f", exif_lat=lat,
                          exif_lon=113.75 if lat is not None else None,
                          exif_taken_at=stored_at - timedelta(minutes=3) if lat is not None else None,
                          stored_at=stored_at)
    return new_envelope(type=MEDIA_STORED_TYPE, producer="event-intake", key=media_id, payload=payload,
                        correlation_id=media_id)


class Service:
    """One dispatch process on a fresh database: the media consumer's batch handler."""

    def __init__(self, url: str, data_dir: Path):
        self.db = Database(url, metadata, "dispatch")
        upgrade_to_head(self.db, MIGRATIONS)
        departments.seed(self.db)
        catalogs.seed(self.db)
        rule_sets.seed(self.db)
        ctx = DispatchContext(self.db, DispatchSettings(common=CommonSettings(data_dir=data_dir, log_json=False),
                                                        sla_scan_seconds=0))
        [spec] = [s for s in consumer_specs(ctx) if s.group == MEDIA.group]
        self.handle = spec.handler

    def rows(self) -> dict[str, tuple]:
        """Every learned photo's facts (all but the moment it was learned), by id."""
        with self.db.session() as session:
            found = session.execute(select(LearnedMedia)).scalars().all()
            return {m.media_id: (m.uploaded_by, m.uploader_role, m.content_type, m.sha256, m.phash, m.exif_lat,
                                 m.exif_lon, m.exif_taken_at, m.stored_at) for m in found}


def test_media_batch_keeps_first_facts_and_equals_one_by_one(url, tmp_path):
    known = photo("m-known", sha="b")
    again_known = photo("m-known", sha="c", lat=None)  # a redelivery under a new envelope id, other facts
    first = photo("m-twice", sha="d")
    second = photo("m-twice", sha="e", lat=22.9)  # the same photo twice in one batch: the first is kept
    others = [photo(sha="f", lat=None) for _ in range(5)]
    batch = [again_known, first, *others[:2], second, *others[2:]]

    batched = Service(url, tmp_path / "a")
    batched.handle([known])
    batched.handle(batch)
    batched.handle(batch)  # the same envelopes again: the handled-message records skip them
    rows = batched.rows()
    assert len(rows) == 7
    assert rows["m-known"][3] == "b" * 64 and rows["m-known"][5] == pytest.approx(23.02)
    assert rows["m-twice"][3] == "d" * 64
    batched.db.engine.dispose()

    if not url.startswith("sqlite"):
        return  # one PostgreSQL database per test: the one-by-one run below is compared on SQLite
    one_by_one = Service(f"sqlite:///{tmp_path / 'single.db'}", tmp_path / "b")
    for envelope in [known, *batch]:
        one_by_one.handle([envelope])
    assert one_by_one.rows() == rows
    one_by_one.db.engine.dispose()


def test_read_in_the_same_transaction_sees_staged_media_and_rollback_forgets_them(url, tmp_path):
    svc = Service(url, tmp_path)
    with svc.db.session() as session:
        service.store_media(session, MediaStored.model_validate(photo("m-1").payload), STORED)
        service.store_media(session, MediaStored.model_validate(photo("m-2", lat=None).payload), STORED)
        assert service.known_media_ids(session, ["m-1", "m-2", "m-3"]) == {"m-1", "m-2"}
        assert set(service.media(session, ["m-1"])) == {"m-1"}
        service.store_media(session, MediaStored.model_validate(photo("m-4").payload), STORED)
        session.rollback()
        session.commit()
    assert svc.rows() == {}
    with svc.db.session() as session:
        service.store_media(session, MediaStored.model_validate(photo("m-5").payload), STORED)
        session.commit()
    assert set(svc.rows()) == {"m-5"}
    svc.db.engine.dispose()
