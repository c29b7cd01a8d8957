"""The 12345 hotline channel with the seat assistant (issue #17), on SQLite and on PostgreSQL: the repeat-caller
offer (``POST /v1/assist/repeats``) and a call recorded on the open case (``repeat_of``), an answer from the
knowledge base (``knowledge_article_id``), and the classifier's suggestion recorded beside the operator's choice."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_event_intake.app import create_app
from gridgov_event_intake.assist import service as assist
from gridgov_event_intake.assist import training
from gridgov_event_intake.assist.models import AssistModel
from gridgov_event_intake.knowledge.models import KnowledgeArticle
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.settings import IntakeSettings

ZH = {"Accept-Language": "zh-CN"}
PHONE = "13812341234"
BBQ = "楼下大排档每晚烧烤到凌晨，油烟很大很吵"
BBQ_AGAIN = "又是楼下那个大排档，烧烤吵到凌晨两点，油烟熏得窗都不敢开"
LAMP = "小区门口的路灯坏了一个星期了，晚上很黑"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def client(request, common_settings):
    """Intake on SQLite, then on a fresh PostgreSQL database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
        yield c


def order(description: str = BBQ, phone: str | None = PHONE, **change) -> dict:
    """A hotline order with a fresh order number."""
    body = {"order_no": f"GD-{uuid.uuid4().hex[:12]}", "caller_name": "张三", "caller_phone": phone,
            "address": "东城街道中湖社区东城中路128号", "category_code": "04002", "description": description,
            **change}
    return {k: v for k, v in body.items() if v is not None}


def file(client, token, body: dict, role: str = "command_centre") -> dict:
    resp = client.post("/v1/reports/hotline", json=body, headers=token(role))
    assert resp.status_code == 202, resp.text
    return resp.json()


def read(client, token, report_id: str, role: str = "command_centre", **kw) -> dict:
    resp = client.get(f"/v1/reports/{report_id}", headers=token(role, **kw))
    assert resp.status_code == 200, resp.text
    return resp.json()


def repeats(client, token, text: str, phone: str = PHONE, role: str = "command_centre") -> list[dict]:
    resp = client.post("/v1/assist/repeats", json={"caller_phone": phone, "text": text}, headers=token(role))
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


def reports(client) -> int:
    with client.app.state.runtime.db.session() as session:
        return session.exec(select(func.count()).select_from(Report)).one()


def published(client) -> int:
    runtime = client.app.state.runtime
    runtime.relay.drain()
    return runtime.bus._conn().execute("SELECT count(*) FROM log WHERE topic=?", (REPORTS_RECEIVED,)).fetchone()[0]


def set_report(client, report_id: str, **values) -> None:
    with client.app.state.runtime.db.session() as session:
        report = session.get(Report, report_id)
        for k, v in values.items():
            setattr(report, k, v)
        session.add(report)
        session.commit()


# --- POST /v1/assist/repeats ----------------------------------------------------------------------------------


def test_repeats_offers_open_similar_report_of_same_caller(client, token):
    bbq = file(client, token, order(BBQ))["report_id"]
    file(client, token, order(LAMP))  # the same caller, another problem
    file(client, token, order(BBQ, phone="13900001111"))  # another caller, the same problem
    items = repeats(client, token, BBQ_AGAIN)
    assert [i["report_id"] for i in items] == [bbq]
    assert items[0]["description"] == BBQ and items[0]["status"] == "received"
    assert items[0]["category_code"] == "04002" and 0.12 <= items[0]["similarity"] <= 1
    # The same phone spelt with dashes or +86 is the same caller.
    assert [i["report_id"] for i in repeats(client, token, BBQ_AGAIN, phone="138-1234-1234")] == [bbq]
    assert [i["report_id"] for i in repeats(client, token, BBQ_AGAIN, phone="+8613812341234")] == [bbq]


def test_repeats_leaves_out_closed_old_and_repeat_reports(client, token):
    answered = file(client, token, order(BBQ, answer="已告知向城管部门反映"))["report_id"]
    old = file(client, token, order(BBQ))["report_id"]
    set_report(client, old, submitted_at=datetime.now(UTC) - timedelta(days=31))
    closed = file(client, token, order(BBQ))["report_id"]
    set_report(client, closed, status="closed")
    assert repeats(client, token, BBQ_AGAIN) == []
    open_one = file(client, token, order(BBQ))["report_id"]
    file(client, token, order(BBQ_AGAIN, repeat_of=open_one))  # stored with status repeat: never offered itself
    assert [i["report_id"] for i in repeats(client, token, BBQ_AGAIN)] == [open_one]
    assert answered not in {i["report_id"] for i in repeats(client, token, BBQ)}


def test_repeats_window_is_a_setting(common_settings, token):
    settings = IntakeSettings(common=common_settings, repeat_window_days=2)
    with TestClient(create_app(settings)) as c:
        rid = file(c, token, order(BBQ))["report_id"]
        assert [i["report_id"] for i in repeats(c, token, BBQ_AGAIN)] == [rid]
        set_report(c, rid, submitted_at=datetime.now(UTC) - timedelta(days=3))
        assert repeats(c, token, BBQ_AGAIN) == []


def test_repeats_is_for_the_desk_only(client, token):
    body = {"caller_phone": PHONE, "text": BBQ}
    for role in ("command_centre", "admin"):
        assert client.post("/v1/assist/repeats", json=body, headers=token(role)).status_code == 200
    for role, kw in (("grid_worker", {"grid": "441900001001001"}), ("dept_dispatcher", {"department": "water"}),
                     ("citizen", {}), ("device_gateway", {})):
        assert client.post("/v1/assist/repeats", json=body, headers=token(role, **kw)).status_code == 403, role
    assert client.post("/v1/assist/repeats", json=body).status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"caller_phone": "12", "text": BBQ}, "caller_phone"),
    ({"caller_phone": "138 1234 1234", "text": BBQ}, "caller_phone"),
    ({"caller_phone": 13812341234, "text": BBQ}, "caller_phone"),
    ({"text": BBQ}, "caller_phone"),
    ({"caller_phone": PHONE, "text": ""}, "text"),
    ({"caller_phone": PHONE, "text": "x" * 2001}, "text"),
    ({"caller_phone": PHONE, "text": "路灯\x00不亮"}, "text"),
    ({"caller_phone": PHONE, "text": ["路灯"]}, "text"),
    ({"caller_phone": PHONE}, "text"),
    ({"caller_phone": PHONE, "text": BBQ, "limit": 5}, "limit"),
])
def test_repeats_bad_input_names_the_field(client, token, body, field):
    resp = client.post("/v1/assist/repeats", json=body, headers={**token("command_centre"), **ZH})
    assert resp.status_code == 422, resp.text
    assert field in {d["field"].split(".")[-1] for d in resp.json()["error"]["details"]}, resp.text


def test_repeats_text_without_letters_finds_nothing(client, token):
    file(client, token, order(BBQ))
    assert repeats(client, token, "。。。！！") == []


# --- POST /v1/reports/hotline with repeat_of --------------------------------------------------------------------


def test_hotline_repeat_of_is_recorded_on_the_open_case_not_published(client, token):
    original = file(client, token, order(BBQ))["report_id"]
    before = published(client)
    body = order(BBQ_AGAIN, phone="138-1234-1234", repeat_of=original)
    answer = file(client, token, body)
    assert answer["status"] == "repeat" and answer["report_id"] != original
    assert published(client) == before  # no new case on the bus
    call = read(client, token, answer["report_id"])
    assert call["repeat_of"] == original and call["status"] == "repeat" and call["ticket_id"] is None
    assert read(client, token, original)["repeat_calls"] == 1
    # The order number keeps the call idempotent: a resend returns it and counts nothing twice.
    again = client.post("/v1/reports/hotline", json=body, headers=token("admin"))
    assert again.status_code == 200 and again.json() == answer
    file(client, token, order("楼下大排档还在烧烤", repeat_of=original))
    assert read(client, token, original)["repeat_calls"] == 2


def test_hotline_repeat_of_a_citizen_report_of_the_same_phone(client, token):
    from gridgov_common.geo import wgs84_to_gcj02
    from gridgov_event_intake.media.samples import jpeg

    citizen = token("citizen", sub="wx-1")
    media = client.post("/v1/media", content=jpeg(), headers={**citizen, "Content-Type": "image/jpeg"}).json()
    lon, lat = wgs84_to_gcj02(113.7518, 23.0205)
    resp = client.post("/v1/reports/citizen", headers=citizen, json={
        "category_code": "01002", "description": BBQ, "device_id": "dev-1", "phone": PHONE, "lon": lon,
        "lat": lat, "media_ids": [media["media_id"]]})
    assert resp.status_code == 202, resp.text
    rid = resp.json()["report_id"]
    assert [i["report_id"] for i in repeats(client, token, BBQ_AGAIN)] == [rid]
    assert file(client, token, order(BBQ_AGAIN, repeat_of=rid))["status"] == "repeat"
    assert read(client, token, rid)["repeat_calls"] == 1


def test_hotline_repeat_of_refusals_name_the_field_and_store_nothing(client, token):
    open_one = file(client, token, order(BBQ))["report_id"]
    answered = file(client, token, order(BBQ, answer="已答复"))["report_id"]
    repeat_call = file(client, token, order(BBQ_AGAIN, repeat_of=open_one))["report_id"]
    patrol = client.post("/v1/reports/patrol", headers=token("grid_worker", grid="441900001001001"), json={
        "category_code": "01002", "description": "路边垃圾", "lon": 113.75, "lat": 23.02}).json()["report_id"]
    stored = reports(client)
    cases = [
        (order(BBQ_AGAIN, repeat_of=str(uuid.uuid4())), "repeat_of", "不存在"),
        (order(BBQ_AGAIN, phone="13900001111", repeat_of=open_one), "repeat_of", "不是该来电号码"),
        (order(BBQ_AGAIN, repeat_of=answered), "repeat_of", "已办结"),
        (order(BBQ_AGAIN, repeat_of=repeat_call), "repeat_of", open_one),
        (order(BBQ_AGAIN, repeat_of=patrol), "repeat_of", "不是热线或市民"),
        (order(BBQ_AGAIN, phone=None, repeat_of=open_one), "caller_phone", "来电号码"),
        (order(BBQ_AGAIN, repeat_of=open_one, answer="已答复"), "repeat_of", "不能同时直接答复"),
        (order(BBQ_AGAIN, repeat_of=""), "repeat_of", None),
        (order(BBQ_AGAIN, repeat_of="x" * 37), "repeat_of", None),
        (order(BBQ_AGAIN, repeat_of=12), "repeat_of", None),
    ]
    for body, field, words in cases:
        resp = client.post("/v1/reports/hotline", json=body, headers={**token("command_centre"), **ZH})
        assert resp.status_code == 422, (body, resp.text)
        details = {d["field"].split(".")[-1]: d["reason"] for d in resp.json()["error"]["details"]}
        assert field in details, resp.text
        if words:
            assert words in details[field], resp.text
    assert reports(client) == stored
    # The English reason names what is wrong, too.
    resp = client.post("/v1/reports/hotline", json=order(BBQ_AGAIN, repeat_of=answered), headers=token("admin"))
    assert "no longer open" in resp.json()["error"]["details"][0]["reason"]


# --- knowledge_article_id ---------------------------------------------------------------------------------------


def article(client, valid_to: date | None = None) -> str:
    """An article of the knowledge base (a new one, valid until ``valid_to``)."""
    now = datetime.now(UTC)
    row = KnowledgeArticle(id=str(uuid.uuid4()), question="社保卡怎么补办", answer="携带身份证到社保窗口办理",
                           department="hrss", valid_from=date(2020, 1, 1), valid_to=valid_to, source="测试",
                           created_by="t", created_at=now, updated_by="t", updated_at=now)
    with client.app.state.runtime.db.session() as session:
        session.add(row)
        session.commit()
    return row.id


def test_hotline_answer_from_knowledge_article_is_recorded(client, token):
    aid = article(client)
    before = published(client)
    body = order("咨询社保卡怎么补办", answer="携带身份证到社保窗口办理", knowledge_article_id=aid)
    answer = file(client, token, body)
    assert answer["status"] == "closed" and published(client) == before
    assert read(client, token, answer["report_id"])["knowledge_article_id"] == aid


def test_hotline_knowledge_article_refusals_name_the_field(client, token):
    expired, valid = article(client, valid_to=date.today() - timedelta(days=2)), article(client)
    stored = reports(client)
    cases = [(order("咨询", answer="已答复", knowledge_article_id=str(uuid.uuid4())), "今日有效"),
             (order("咨询", answer="已答复", knowledge_article_id=expired), "今日有效"),
             (order("咨询", knowledge_article_id=valid), "仅在直接答复")]
    for body, words in cases:
        resp = client.post("/v1/reports/hotline", json=body, headers={**token("command_centre"), **ZH})
        assert resp.status_code == 422, resp.text
        details = {d["field"].split(".")[-1]: d["reason"] for d in resp.json()["error"]["details"]}
        assert words in details["knowledge_article_id"], resp.text
    assert reports(client) == stored


# --- the classifier's suggestion ----------------------------------------------------------------------------------

WATER = ["自来水管破裂，水流了一地", "水管爆了到处是水", "小区停水水管漏水", "路边自来水管爆裂喷水",
         "家里没水，水管破了", "水表那里漏水很严重", "楼下水管爆裂冒水", "供水管道破裂停水了"]
RUBBISH = ["路边有一堆垃圾没人清理", "垃圾桶满了臭气熏天", "小区垃圾堆成山", "街上乱扔垃圾很脏",
           "垃圾站的垃圾好几天没运走", "河边堆满生活垃圾", "绿化带里都是垃圾", "垃圾没人收发臭了"]


def activate_tiny_model(client) -> str:
    """Train a two-code model on a few texts and make it the one in use, as ``gridgov assist train`` does."""
    examples = [(t, "04002") for t in WATER] + [(t, "01002") for t in RUBBISH]
    artefact, _ = training.fit(examples, [], "v-tiny")
    db = client.app.state.runtime.db
    with db.session() as session:
        assist.add_model(session, AssistModel(version="v-tiny", created_at=datetime.now(UTC),
                                               artefact=artefact.to_bytes()), activate=True)
        session.commit()
    assist.forget(db)
    return "v-tiny"


def test_hotline_suggestion_without_model_is_recorded_abstained(client, token):
    rid = file(client, token, order("自来水管破裂"))["report_id"]
    suggestion = read(client, token, rid)["suggestion"]
    assert suggestion == {"suggestions": [], "model_version": None, "abstained": True, "reason": "no_model",
                          "agreed": None}


def test_hotline_suggestion_recorded_beside_operator_choice(client, token):
    version = activate_tiny_model(client)
    agreed = file(client, token, order("水管爆裂了，水流到马路上", category_code="04002"))["report_id"]
    differs = file(client, token, order("水管爆裂了，水流到马路上", category_code="01002"))["report_id"]
    one = read(client, token, agreed)["suggestion"]
    assert one["model_version"] == version and one["suggestions"], one
    assert one["suggestions"][0]["code"] == "04002" and 0 < one["suggestions"][0]["confidence"] <= 1
    assert one["agreed"] is True
    other = read(client, token, differs)["suggestion"]
    assert other["agreed"] is False and other["suggestions"][0]["code"] == "04002"
    # Shown to the desk only: admins see it, the handling department and the grid do not.
    assert read(client, token, agreed, role="admin")["suggestion"] == one
    set_report(client, agreed, department="water")
    assert read(client, token, agreed, role="dept_dispatcher", department="water")["suggestion"] is None


def test_hotline_order_taken_when_classifier_fails(client, token, monkeypatch):
    def broken(_db, _text):
        raise RuntimeError("model store unreachable")

    monkeypatch.setattr(assist, "suggest", broken)
    body = order("水管爆裂")
    rid = file(client, token, body)["report_id"]
    assert read(client, token, rid)["suggestion"]["reason"] == "error"
    assert read(client, token, rid)["suggestion"]["abstained"] is True
    # The order number still returns the original.
    again = client.post("/v1/reports/hotline", json=body, headers=token("command_centre"))
    assert again.status_code == 200 and again.json()["report_id"] == rid


def test_other_channels_record_no_suggestion(client, token):
    resp = client.post("/v1/reports/patrol", headers=token("grid_worker", grid="441900001001001"), json={
        "category_code": "01002", "description": "路边垃圾", "lon": 113.75, "lat": 23.02})
    assert resp.status_code == 202
    assert read(client, token, resp.json()["report_id"])["suggestion"] is None
