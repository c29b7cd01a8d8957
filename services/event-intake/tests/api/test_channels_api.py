"""The channels end to end inside intake: media, patrol 自行处置, hotline, citizen 随手拍, idempotency, privacy."""

import threading

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.geo import wgs84_to_gcj02
from gridgov_event_intake.app import create_app
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.media.samples import GPS, jpeg, png
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.settings import IntakeSettings

GRID = "441900001001001"
PATROL = {"category_code": "01002", "description": "路边有暴露垃圾", "lon": 113.75, "lat": 23.02}
HOTLINE = {"order_no": "GD20261125-0001", "caller_name": "张三", "caller_phone": "13812341234",
           "address": "东城街道东城路 1 号", "category_code": "04002", "description": "自来水管破裂",
           "urgency": "urgent"}
CITIZEN_POINT = wgs84_to_gcj02(113.7518, 23.0205)


@pytest.fixture
def client(common_settings):
    settings = IntakeSettings(common=common_settings, media_max_bytes=4096, citizen_limit=3)
    with TestClient(create_app(settings)) as c:
        yield c


def published(client) -> list[Envelope]:
    runtime = client.app.state.runtime
    runtime.relay.drain()
    rows = runtime.bus._conn().execute("SELECT value FROM log WHERE topic=? ORDER BY appended_at",
                                       (REPORTS_RECEIVED,)).fetchall()
    return [Envelope.from_bytes(bytes(r[0])) for r in rows]


def count(client, model) -> int:
    with client.app.state.runtime.db.session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def worker(token):
    return token("grid_worker", sub="gw-7", grid=GRID)


def citizen(token, sub="wx-openid-1"):
    return token("citizen", sub=sub)


def upload(client, headers, data=None) -> str:
    resp = client.post("/v1/media", content=data or jpeg(), headers={**headers, "Content-Type": "image/jpeg"})
    assert resp.status_code == 201, resp.text
    return resp.json()["media_id"]


def citizen_body(media_id, **change):
    return {"category_code": "01002", "description": "小区门口垃圾成堆", "device_id": "dev-1",
            "phone": "13912345678", "lon": CITIZEN_POINT[0], "lat": CITIZEN_POINT[1], "media_ids": [media_id],
            **change}


def test_upload_media_public_copy_has_no_gps(client, token):
    media_id = upload(client, worker(token))
    got = client.get(f"/v1/media/{media_id}", headers=worker(token))  # its uploader, before any report uses it
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert GPS not in got.content and got.content == jpeg(with_exif=False)


def test_upload_media_judges_by_content_not_header(client, token):
    resp = client.post("/v1/media", content=png(), headers={**worker(token), "Content-Type": "image/jpeg"})
    assert resp.status_code == 201 and resp.json()["content_type"] == "image/png"


def test_upload_media_wrong_type_is_415_and_nothing_stored(client, token):
    resp = client.post("/v1/media", content=b"MZ\x90\x00 not an image",
                       headers={**worker(token), "Content-Type": "image/jpeg"})
    assert resp.status_code == 415
    assert resp.json()["error"]["details"][0]["field"] == "body"
    assert count(client, Media) == 0
    assert not list(client.app.state.runtime.settings.media_root().rglob("*.*"))


def test_upload_media_oversize_is_413_and_nothing_stored(client, token):
    resp = client.post("/v1/media", content=jpeg() + bytes(5000),
                       headers={**worker(token), "Content-Type": "image/jpeg"})
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"
    assert count(client, Media) == 0


def test_post_patrol_report_handled_on_spot_publishes_fix_and_photos(client, token):
    media_id = upload(client, worker(token))
    body = {**PATROL, "media_ids": [media_id], "handled_on_spot": True, "handled_note": "已清理"}
    resp = client.post("/v1/reports/patrol", json=body, headers=worker(token))
    assert resp.status_code == 202, resp.text
    [envelope] = published(client)
    assert envelope.payload["handled_on_spot"] is True
    assert envelope.payload["handled_note"] == "已清理"
    assert envelope.payload["media_ids"] == [media_id]
    report = client.get(f"/v1/reports/{resp.json()['report_id']}", headers=worker(token)).json()
    assert report["media_ids"] == [media_id] and report["handled_on_spot"] is True


def test_post_patrol_report_handled_on_spot_without_photo_is_refused(client, token):
    body = {**PATROL, "handled_on_spot": True, "handled_note": "已清理"}
    resp = client.post("/v1/reports/patrol", json=body, headers=worker(token))
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["media_ids"]
    assert published(client) == [] and count(client, Report) == 0


def test_post_patrol_report_with_someone_elses_media_is_refused(client, token):
    media_id = upload(client, token("grid_worker", sub="other", grid=GRID))
    resp = client.post("/v1/reports/patrol", json={**PATROL, "media_ids": [media_id]}, headers=worker(token))
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "media_ids"
    assert published(client) == [] and count(client, Report) == 0


def test_post_hotline_report_publishes_without_phone(client, token):
    resp = client.post("/v1/reports/hotline", json={**HOTLINE, "feedback_tier": "2d"},
                       headers=token("command_centre"))
    assert resp.status_code == 202, resp.text
    [envelope] = published(client)
    assert envelope.payload["channel"] == "hotline"
    assert envelope.payload["address"] == HOTLINE["address"]
    assert envelope.payload["feedback_tier"] == "2d" and envelope.payload["urgency"] == "urgent"
    assert envelope.payload["lon"] is None
    assert "13812341234" not in envelope.to_bytes().decode()


def test_post_hotline_report_answered_directly_is_closed_and_not_published(client, token):
    resp = client.post("/v1/reports/hotline", json={**HOTLINE, "answer": "已答复：办理时间为工作日"},
                       headers=token("command_centre"))
    assert resp.status_code == 202
    assert resp.json()["status"] == "closed"
    assert published(client) == []
    got = client.get(f"/v1/reports/{resp.json()['report_id']}", headers=token("command_centre")).json()
    assert got["status"] == "closed" and got["answer"].startswith("已答复")


def test_post_hotline_report_resent_returns_original(client, token):
    first = client.post("/v1/reports/hotline", json=HOTLINE, headers=token("command_centre"))
    again = client.post("/v1/reports/hotline", json=HOTLINE, headers=token("admin"))
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["report_id"] == again.json()["report_id"]
    assert len(published(client)) == 1 and count(client, Report) == 1


def test_post_hotline_report_with_one_coordinate_names_it(client, token):
    resp = client.post("/v1/reports/hotline", json={**HOTLINE, "lon": 113.7}, headers=token("command_centre"))
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["lat"]
    assert published(client) == [] and count(client, Report) == 0


def test_post_hotline_report_as_grid_worker_is_403(client, token):
    assert client.post("/v1/reports/hotline", json=HOTLINE, headers=worker(token)).status_code == 403


def test_get_report_masks_phone_and_name_except_for_handling_department_and_centre(client, token):
    rid = client.post("/v1/reports/hotline", json=HOTLINE, headers=token("command_centre")).json()["report_id"]
    with client.app.state.runtime.db.session() as session:  # as follow_ticket records it
        report = session.get(Report, rid)
        report.department = "water"
        session.add(report)
        session.commit()

    def contact(headers):
        resp = client.get(f"/v1/reports/{rid}", headers=headers)
        assert resp.status_code == 200, resp.text
        return resp.json()["reporter_name"], resp.json()["reporter_phone"]

    assert contact(token("command_centre")) == ("张三", "13812341234")
    assert contact(token("dept_dispatcher", department="water")) == ("张三", "13812341234")
    assert contact(token("admin")) == ("张*", "138****1234")
    # Another department does not learn the report exists (issue #11).
    assert client.get(f"/v1/reports/{rid}", headers=token("dept_dispatcher", department="housing")).status_code \
        == 404


def test_post_citizen_report_converts_gcj02_and_credits_no_points_at_intake(client, token):
    media_id = upload(client, citizen(token))
    resp = client.post("/v1/reports/citizen", json=citizen_body(media_id), headers=citizen(token))
    assert resp.status_code == 202, resp.text
    [envelope] = published(client)
    assert abs(envelope.payload["lon"] - 113.7518) < 1e-6 and abs(envelope.payload["lat"] - 23.0205) < 1e-6
    assert envelope.payload["source_crs"] == "gcj02"
    mine = client.get(f"/v1/reports/{resp.json()['report_id']}", headers=citizen(token)).json()
    assert mine["reporter_phone"] == "139****5678"
    ledger = client.get("/v1/rewards/wx-openid-1", headers=citizen(token)).json()
    assert ledger["balance"] == 0 and ledger["entries"] == []  # points wait for verification (issue #11)


def test_get_rewards_of_another_citizen_is_403(client, token):
    resp = client.get("/v1/rewards/wx-openid-1", headers=citizen(token, sub="someone-else"))
    assert resp.status_code == 403
    assert resp.json()["error"]["details"][0]["field"] == "citizen"


def test_post_citizen_report_without_photo_is_refused(client, token):
    resp = client.post("/v1/reports/citizen", json={**citizen_body("x"), "media_ids": []}, headers=citizen(token))
    assert resp.status_code == 422
    assert "media_ids" in [d["field"] for d in resp.json()["error"]["details"]]
    assert published(client) == []


@pytest.mark.parametrize(("vary", "field"), [("phone", "device_id"), ("device_id", "phone")])
def test_post_citizen_report_over_limit_is_429_with_retry_after(client, token, vary, field):
    for n in range(3):
        body = citizen_body(upload(client, citizen(token)), **{vary: f"1380000000{n}" if vary == "phone"
                                                               else f"dev-{n}"})
        assert client.post("/v1/reports/citizen", json=body, headers=citizen(token)).status_code == 202
    body = citizen_body(upload(client, citizen(token)), **{vary: "13800000009" if vary == "phone" else "dev-9"})
    resp = client.post("/v1/reports/citizen", json=body, headers=citizen(token))
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 600
    assert resp.json()["error"]["details"][0]["field"] == field
    assert len(published(client)) == 3 and count(client, Report) == 3


def test_post_citizen_report_retry_with_client_id_returns_original(client, token):
    media_id = upload(client, citizen(token))
    body = citizen_body(media_id, client_id="c-42")
    first = client.post("/v1/reports/citizen", json=body, headers=citizen(token))
    again = client.post("/v1/reports/citizen", json=body, headers=citizen(token))
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["report_id"] == again.json()["report_id"]
    assert len(published(client)) == 1 and count(client, Report) == 1


def test_post_patrol_report_concurrent_retries_under_one_key_make_one_report(client, token):
    headers = {**worker(token), "Idempotency-Key": "retry-me"}
    answers, barrier = [], threading.Barrier(8)

    def submit():
        barrier.wait()
        answers.append(client.post("/v1/reports/patrol", json=PATROL, headers=headers))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({a.json()["report_id"] for a in answers}) == 1
    assert sorted(a.status_code for a in answers) == [200] * 7 + [202]
    assert len(published(client)) == 1 and count(client, Report) == 1


def test_post_patrol_report_same_key_other_worker_is_a_new_report(client, token):
    first = client.post("/v1/reports/patrol", json=PATROL, headers={**worker(token), "Idempotency-Key": "k"})
    other = client.post("/v1/reports/patrol", json=PATROL,
                        headers={**token("grid_worker", sub="gw-8", grid=GRID), "Idempotency-Key": "k"})
    assert (first.status_code, other.status_code) == (202, 202)
    assert first.json()["report_id"] != other.json()["report_id"]


def test_accept_losing_the_race_to_unique_key_returns_winner(client, token, monkeypatch):
    from gridgov_event_intake.reports import service

    headers = {**worker(token), "Idempotency-Key": "race"}
    winner = client.post("/v1/reports/patrol", json=PATROL, headers=headers).json()["report_id"]
    real = service.get_by_idempotency_key
    calls = []

    def blind_first_lookup(session, key):  # the loser looked before the winner committed
        calls.append(key)
        return None if len(calls) == 1 else real(session, key)

    monkeypatch.setattr(service, "get_by_idempotency_key", blind_first_lookup)
    resp = client.post("/v1/reports/patrol", json=PATROL, headers=headers)
    assert resp.status_code == 200 and resp.json()["report_id"] == winner
    assert len(calls) == 2  # the UNIQUE constraint spoke, and the second lookup found the winner
    assert len(published(client)) == 1 and count(client, Report) == 1
