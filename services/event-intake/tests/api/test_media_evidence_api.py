"""Uploads keep what the original proves (issue #14): EXIF position and time and a perceptual hash on the media
row, in the answer and in ``media.stored`` (published with the row, through the outbox), while the public copy
stays stripped; a decompression bomb is refused in Chinese when asked, storing and publishing nothing. On SQLite
and on PostgreSQL."""

import io
import json
import struct
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import func, select

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import MEDIA_STORED
from gridgov_common.events.media import MediaStored
from gridgov_event_intake.app import create_app
from gridgov_event_intake.media import phash
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.media.samples import encode, exif_block, reused, scene
from gridgov_event_intake.settings import IntakeSettings

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request, common_settings):
    """Intake on SQLite, then on a fresh PostgreSQL database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
        yield c


def upload(client, headers, data: bytes, content_type: str = "image/jpeg"):
    return client.post("/v1/media", content=data, headers={**headers, "Content-Type": content_type})


def stored_messages(client) -> list[MediaStored]:
    """The ``media.stored`` payloads intake published (its outbox relayed to the embedded bus)."""
    runtime = client.app.state.runtime
    runtime.relay.drain()
    rows = runtime.bus._conn().execute("SELECT value FROM log WHERE topic=? ORDER BY appended_at", (MEDIA_STORED,))
    return [MediaStored.model_validate(Envelope.from_bytes(bytes(value)).payload) for (value,) in rows]


def media_rows(client) -> int:
    with client.app.state.runtime.db.session() as session:
        return session.exec(select(func.count()).select_from(Media)).one()


def test_upload_photo_keeps_exif_and_phash_and_publishes_media_stored(client, token):
    picture = scene(11)
    data = encode(picture, exif=exif_block(23.0205, 113.7518, "2026:12:01 09:30:15"))  # no offset: city time
    resp = upload(client, token("grid_worker", sub="gw-7"), data)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["exif"]["lat"] == pytest.approx(23.0205, abs=1e-6)
    assert body["exif"]["lon"] == pytest.approx(113.7518, abs=1e-6)
    assert datetime.fromisoformat(body["exif"]["taken_at"]) == datetime(2026, 12, 1, 1, 30, 15, tzinfo=UTC)
    with client.app.state.runtime.db.session() as session:
        row = session.get(Media, body["media_id"])
    assert row.phash == phash.phash_of_bytes(data) and row.exif_taken_at == datetime(2026, 12, 1, 1, 30, 15,
                                                                                      tzinfo=UTC)
    [message] = stored_messages(client)
    assert (message.media_id, message.uploaded_by, message.uploader_role) == (body["media_id"], "gw-7",
                                                                              "grid_worker")
    assert message.sha256 == row.sha256 and message.phash == row.phash
    assert (message.exif_lat, message.exif_lon) == (row.exif_lat, row.exif_lon)
    assert message.exif_taken_at.isoformat() == "2026-12-01T09:30:15+08:00"  # as the camera wrote it
    # The public copy stays stripped: no GPS in what anyone can read back.
    public = client.get(f"/v1/media/{body['media_id']}", headers=token("grid_worker", sub="gw-7"))
    assert public.status_code == 200
    assert Image.open(io.BytesIO(public.content)).getexif().get_ifd(0x8825) == {}


def test_upload_reused_photo_publishes_a_close_phash(client, token):
    picture = scene(12)
    worker = token("grid_worker", sub="gw-8")
    first = upload(client, worker, encode(picture))
    second = upload(client, worker, reused(picture))
    assert first.status_code == second.status_code == 201
    assert first.json()["exif"] is None  # no EXIF at all
    a, b = stored_messages(client)
    assert a.sha256 != b.sha256 and phash.hamming(a.phash, b.phash) <= 6


def bomb_jpeg() -> bytes:
    """A small JPEG whose frame header declares 10,000 x 10,000 pixels (100 megapixels)."""
    data = encode(Image.new("RGB", (16, 16), "grey"))
    at = data.index(b"\xff\xc0") + 5  # marker, length, precision, then height and width
    return data[:at] + struct.pack(">HH", 10_000, 10_000) + data[at + 4:]


def test_upload_decompression_bomb_is_refused_in_chinese_storing_and_publishing_nothing(client, token):
    resp = upload(client, {**token("citizen"), **ZH}, bomb_jpeg())
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["message"] == "图片尺寸过大"
    assert error["details"] == [{"field": "file", "reason": "图片为 10000 x 10000 像素：超过 50000000 像素"}]
    assert media_rows(client) == 0 and stored_messages(client) == []


def test_upload_jpeg_whose_decoder_reads_a_bigger_canvas_is_refused(client, token):
    data = encode(Image.new("RGB", (9000, 6000), "blue"), quality=10)  # 54 MP: over the 50 MP limit
    at = data.index(b"\xff\xc0")
    fake = b"\xff\xc0" + struct.pack(">H", 11) + b"\x08" + struct.pack(">HH", 1, 1) + b"\x01\x01\x11\x00"
    resp = upload(client, token("citizen"), data[:at] + fake + data[at:])  # the header check sees 1 x 1
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["details"][0] == {"field": "file",
                                                  "reason": "9000 x 6000 pixels: more than 50000000 pixels"}
    assert media_rows(client) == 0 and stored_messages(client) == []


def test_upload_not_an_image_keeps_its_415_and_publishes_nothing(client, token):
    resp = upload(client, token("citizen"), b"GIF89a" + bytes(100), "image/gif")
    assert resp.status_code == 415
    assert json.loads(resp.text)["error"]["details"][0]["field"] == "body"
    assert media_rows(client) == 0 and stored_messages(client) == []
