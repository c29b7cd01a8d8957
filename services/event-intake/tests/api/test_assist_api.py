"""The seat assistant's classifier over HTTP and its store (issue #17): ``POST /v1/assist/classify`` for every role
and bad input, the active version cached and reloaded, a worse model refused, and labelled texts learned from
dispatch's ticket events — on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from gridgov_common.bus.envelope import new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_event_intake.app import create_app
from gridgov_event_intake.assist import handlers, service, training
from gridgov_event_intake.assist.models import AssistExample, AssistModel
from gridgov_event_intake.consumers import ASSIST_CORRECTIONS
from gridgov_event_intake.settings import IntakeSettings

GRID = "441900001001001"
ZH = {"Accept-Language": "zh-CN"}
PEOPLE = ("command_centre", "admin", "grid_worker", "dept_dispatcher", "citizen")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def client(request, common_settings):
    """Intake on SQLite, then on a fresh PostgreSQL database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
        yield c


@pytest.fixture(scope="module")
def catalog_set() -> training.TrainingSet:
    """A small training set: the catalog's own texts, a few per code (fast to train)."""
    return training.TrainingSet(training.catalog_examples(), training.catalog_words(), "catalog")


@pytest.fixture(scope="module")
def small_model(catalog_set) -> bytes:
    """One small model's artefact for the tests that only need a model in use."""
    artefact, _ = training.fit(catalog_set.examples, catalog_set.user_words, "v-test")
    return artefact.to_bytes()


def activate(client, data: bytes, version: str = "v-test") -> None:
    """Store a version as the active one, as ``gridgov assist train`` does."""
    db = client.app.state.runtime.db
    with db.session() as session:
        service.add_model(session, AssistModel(version=version, created_at=datetime.now(UTC), artefact=data),
                          activate=True)
        session.commit()
    service.forget(db)


def classify(client, token, text, role="command_centre", headers=None):
    return client.post("/v1/assist/classify", json={"text": text}, headers={**token(role), **(headers or {})})


def test_classify_without_a_model_abstains_with_no_model(client, token):
    resp = classify(client, token, "楼下大排档每晚烧烤到凌晨")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"model_version": None, "abstained": True, "reason": "no_model", "suggestions": []}


def test_classify_suggests_top3_with_names_and_department_for_every_person(client, token, small_model):
    activate(client, small_model)
    for role in PEOPLE:
        resp = classify(client, token, "路边有无照经营的游商在卖东西", role=role)
        assert resp.status_code == 200, (role, resp.text)
        body = resp.json()
        assert body["model_version"] == "v-test" and len(body["suggestions"]) == 3
        first = body["suggestions"][0]
        assert first["code"] == "05001" and first["name"] == "无照经营游商"
        assert first["department_type"] == "urban-management"
        assert first["department_type_name"] == "城市管理和综合执法局"
        assert 0 < first["confidence"] <= 1


def test_classify_refuses_nobody_and_device_gateways(client, token):
    assert client.post("/v1/assist/classify", json={"text": "路灯坏了"}).status_code == 401
    assert classify(client, token, "路灯坏了", role="device_gateway").status_code == 403


@pytest.mark.parametrize("text", ["", "路" * 2001, "路灯\x00坏了", "路灯\x07坏了", 12, None])
def test_classify_bad_text_is_a_422_naming_text(client, token, text):
    resp = client.post("/v1/assist/classify", json={"text": text}, headers=token("command_centre"))
    assert resp.status_code == 422, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["text"]


def test_classify_bad_text_answers_in_chinese_when_asked(client, token):
    resp = classify(client, token, "", headers=ZH)
    assert resp.status_code == 422
    reason = resp.json()["error"]["details"][0]["reason"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reason), reason


def test_classify_extra_field_is_refused(client, token):
    resp = client.post("/v1/assist/classify", json={"text": "路灯坏了", "x": 1}, headers=token("admin"))
    assert resp.status_code == 422


@pytest.mark.parametrize("text", ["street light broken on Main Road", "Фонарь не работает", "   ", "？？？"])
def test_classify_text_with_nothing_known_abstains_without_suggestions(client, token, small_model, text):
    activate(client, small_model)
    body = classify(client, token, text).json()
    assert body["abstained"] and body["reason"] in ("no_signal", "empty") and body["suggestions"] == []


def test_current_classifier_reloads_when_the_active_version_changes(client, small_model, monkeypatch):
    db = client.app.state.runtime.db
    monkeypatch.setattr(service, "REFRESH_SECONDS", 0.0)
    assert service.current_classifier(db).version is None
    activate(client, small_model, "v-a")
    first = service.current_classifier(db)
    assert first.version == "v-a" and service.current_classifier(db) is first  # cached
    with db.session() as session:  # another process activates a version: no forget() here
        service.add_model(session, AssistModel(version="v-b", created_at=datetime.now(UTC), artefact=small_model),
                          activate=True)
        session.commit()
    assert service.current_classifier(db).version == "v-b"
    assert service.suggest(db, "路灯坏了").model_version == "v-b"
    with db.session() as session:
        assert session.exec(select(AssistModel.version).where(AssistModel.active)).all() == ["v-b"]


def test_train_activates_a_first_model_and_refuses_a_worse_one_unless_forced(client, catalog_set):
    db = client.app.state.runtime.db
    first = handlers.train(db, base=catalog_set)
    assert first.activated and first.active_version is None and first.candidate["texts"] > 0
    # The texts of a few codes only: a model that evaluates worse (and trains fast).
    worse_set = training.TrainingSet(catalog_set.examples[:30], catalog_set.user_words, "catalog")
    worse = handlers.train(db, base=worse_set)
    assert not worse.activated and worse.active_version == first.version
    assert worse.candidate["top3"] < worse.active["top3"]
    with db.session() as session:
        assert service.active_version(session) == first.version
        assert session.get(AssistModel, worse.version).metrics["eval"]["top3"] == worse.candidate["top3"]
    forced = handlers.train(db, base=worse_set, force=True)
    assert forced.activated
    with db.session() as session:
        assert service.active_version(session) == forced.version
    assert handlers.ensure_model(db) is None  # one is active: nothing trained


def _event(report_id: str, action: str, code: str) -> tuple[TicketEvent, object]:
    now = datetime.now(UTC)
    event = TicketEvent(ticket_id=f"T-{report_id[:8]}", report_id=report_id, action=action, from_state=None,
                        to_state="dispatched", category_code=code, department="urban-management", grid_code=GRID,
                        village_code=None, town_code=None, reporter_id="x", deadline=now + timedelta(days=1),
                        actor_id="cc-1", actor_role="command_centre", occurred_at=now)
    envelope = new_envelope(type=ticket_event_type(action), producer="dispatch", key=event.ticket_id, payload=event,
                            correlation_id=report_id)
    return event, envelope


def patrol(client, token, code: str, description: str) -> str:
    resp = client.post("/v1/reports/patrol", headers=token("grid_worker", grid=GRID),
                       json={"category_code": code, "description": description, "lon": 113.75, "lat": 23.02})
    assert resp.status_code == 202, resp.text
    return resp.json()["report_id"]


def learn(client, *envelopes) -> None:
    runtime = client.app.state.runtime
    with runtime.db.session() as session:
        for envelope in envelopes:
            handlers.learn_correction(runtime.settings, session, envelope)
        session.commit()


def examples(client) -> list[tuple[str, str, str]]:
    with client.app.state.runtime.db.session() as session:
        rows = session.exec(select(AssistExample).order_by(AssistExample.id)).all()
        return [(r.report_id, r.text, r.code) for r in rows]


def test_learn_correction_labels_the_report_text_with_the_final_category(client, token):
    moved = patrol(client, token, "01002", "楼下垃圾堆了三天没人收")
    ruled = patrol(client, token, "11008", "路口那盏灯晚上不亮")
    same = patrol(client, token, "01009", "墙上被人乱涂乱画")
    learn(client, _event(moved, "dispatch", "01003")[1],  # re-categorised: differs from the report's
          _event(ruled, "rule_return", "11008")[1],  # 退单裁定 with the category kept: confirmed
          _event(same, "dispatch", "01009")[1],  # nothing changed: not an example
          _event("no-such-report", "rule_return", "01001")[1])
    assert examples(client) == [(moved, "楼下垃圾堆了三天没人收", "01003"), (ruled, "路口那盏灯晚上不亮", "11008")]
    # Redelivered, then re-categorised again: still one row per report, with the latest category.
    learn(client, _event(moved, "dispatch", "01003")[1], _event(moved, "rule_return", "01004")[1])
    assert examples(client) == [(moved, "楼下垃圾堆了三天没人收", "01004"), (ruled, "路口那盏灯晚上不亮", "11008")]
    with client.app.state.runtime.db.session() as session:
        assert ("楼下垃圾堆了三天没人收", "01004") in service.correction_examples(session)


def test_corrections_consumer_learns_from_the_bus(client, token):
    report = patrol(client, token, "01002", "小区门口的垃圾桶满了溢出来")
    runtime = client.app.state.runtime
    [runner] = [r for r in runtime.runners if r.group == ASSIST_CORRECTIONS.group]
    before = runner.handled
    envelope = _event(report, "rule_return", "13001")[1]
    runtime.bus.publish([OutgoingMessage(TICKETS_EVENTS, envelope.key, envelope.to_bytes())])
    deadline = time.monotonic() + 15
    while runner.handled < before + 1:
        assert time.monotonic() < deadline, "intake's assist consumer did not handle the event"
        time.sleep(0.02)
    assert examples(client) == [(report, "小区门口的垃圾桶满了溢出来", "13001")]


def test_consumer_table_routes_every_ticket_event_to_learn_correction():
    described = ASSIST_CORRECTIONS.describe()
    assert described["ticket.return_ruled"] == ["learn_correction"]
    assert described["ticket.dispatched"] == ["learn_correction"]
