"""A patrol report carries the phone's own fix (issue #14): 自行处置 with a fix photo publishes ``report.received``
with ``device_fix``, which dispatch judges the photo's geofence from; a fix without its accuracy, with an
accuracy of zero or a time without its offset is refused naming the field, storing and publishing nothing. On
SQLite and on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.events.reports import ReportReceived
from gridgov_event_intake.app import create_app
from gridgov_event_intake.media.samples import encode, exif_block, scene
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.settings import IntakeSettings

FIXED_AT = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
FIX = {"lat": 23.0205, "lon": 113.7518, "accuracy_m": 6.5, "fixed_at": FIXED_AT.isoformat(), "mocked": False}


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request, common_settings):
    """Intake on SQLite, then on a fresh PostgreSQL database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
        yield c


def received(client) -> list[ReportReceived]:
    runtime = client.app.state.runtime
    runtime.relay.drain()
    rows = runtime.bus._conn().execute("SELECT value FROM log WHERE topic=? ORDER BY appended_at",
                                       (REPORTS_RECEIVED,)).fetchall()
    return [ReportReceived.model_validate(Envelope.from_bytes(bytes(r[0])).payload) for r in rows]


def reports(client) -> int:
    with client.app.state.runtime.db.session() as session:
        return session.exec(select(func.count()).select_from(Report)).one()


def fix_photo(client, headers) -> str:
    photo = encode(scene(21), exif=exif_block(23.0205, 113.7518, "2026:12:02 14:00:00"))
    resp = client.post("/v1/media", content=photo, headers={**headers, "Content-Type": "image/jpeg"})
    assert resp.status_code == 201, resp.text
    return resp.json()["media_id"]


def test_patrol_report_handled_on_spot_publishes_its_device_fix(client, token):
    worker = token("grid_worker", sub="gw-3")
    photo = fix_photo(client, worker)
    body = {"category_code": "01002", "description": "路边有暴露垃圾", "lon": 113.7518, "lat": 23.0205,
            "handled_on_spot": True, "handled_note": "已清理", "media_ids": [photo], "fix": FIX}
    resp = client.post("/v1/reports/patrol", json=body, headers=worker)
    assert resp.status_code == 202, resp.text
    [report] = received(client)
    assert report.handled_on_spot and report.media_ids == [photo]
    fix = report.device_fix
    assert (fix.lat, fix.lon, fix.accuracy_m, fix.fixed_at, fix.mocked) == (23.0205, 113.7518, 6.5, FIXED_AT, False)


def test_patrol_report_without_fix_publishes_none(client, token):
    body = {"category_code": "01002", "description": "路边有暴露垃圾", "lon": 113.75, "lat": 23.02}
    assert client.post("/v1/reports/patrol", json=body, headers=token("grid_worker")).status_code == 202
    [report] = received(client)
    assert report.device_fix is None


@pytest.mark.parametrize(("change", "field"), [
    ({"accuracy_m": None}, "fix.accuracy_m"),
    ({"accuracy_m": 0}, "fix.accuracy_m"),
    ({"fixed_at": (FIXED_AT - timedelta(minutes=1)).replace(tzinfo=None).isoformat()}, "fix.fixed_at"),
    ({"lat": 91}, "fix.lat"),
    ({"speed": 3}, "fix.speed"),
], ids=["no-accuracy", "zero-accuracy", "naive-time", "lat-out-of-range", "unknown-field"])
def test_patrol_report_with_bad_fix_is_422_naming_the_field_and_stores_nothing(client, token, change, field):
    fix = {k: v for k, v in {**FIX, **change}.items() if v is not None}
    body = {"category_code": "01002", "description": "路边有暴露垃圾", "lon": 113.75, "lat": 23.02, "fix": fix}
    resp = client.post("/v1/reports/patrol", json=body, headers=token("grid_worker"))
    assert resp.status_code == 422, resp.text
    assert field in [d["field"] for d in resp.json()["error"]["details"]]
    assert reports(client) == 0 and received(client) == []
