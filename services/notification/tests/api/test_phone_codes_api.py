"""Phone confirmation by SMS code (issue #14): send, confirm once, lock after three wrong codes, rate limits;
on SQLite and on PostgreSQL."""

import json
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gridgov_notification.app import create_app
from gridgov_notification.followups import rules as followup_rules
from gridgov_notification.settings import NotificationSettings

PHONE = "13800138000"
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def client(request, common_settings):
    """notification on SQLite, then on a fresh PostgreSQL database (no delivery worker: codes go out directly)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    settings = NotificationSettings(common=common_settings, database_url=url, run_delivery_worker=False,
                                    phone_code_client_limit=3)
    with TestClient(create_app(settings)) as c:
        yield c


def sms_sent(client) -> list[dict]:
    """The text messages the embedded stack's SMS carrier (a file) received."""
    path = client.app.state.runtime.settings.common.data_dir / "sms.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def code_in(message: dict) -> str:
    return next(word for word in message["text"].replace("，", " ").split() if word.isdigit() and len(word) == 6)


def ask(client, phone=PHONE, client_id="device-1", **headers):
    return client.post("/v1/phone-codes", json={"phone": phone, "client_id": client_id}, headers=headers)


def stored(client) -> int:
    with client.app.state.runtime.db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM phone_code")).scalar_one()


def reasons(resp) -> dict[str, str]:
    return {d["field"]: d["reason"] for d in resp.json()["error"]["details"]}


def test_send_code_by_sms_and_confirm_it_once(client):
    resp = ask(client, phone="+86 138-0013-8000")
    assert resp.status_code == 202, resp.text
    sent = resp.json()
    assert sent["phone_masked"] == "138****8000" and sent["max_attempts"] == 3
    [message] = sms_sent(client)
    assert message["to"] == PHONE and "验证码" in message["text"]
    confirmed = client.post(f"/v1/phone-codes/{sent['id']}/confirm", json={"phone": PHONE, "code": code_in(message)})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["phone"] == PHONE
    again = client.post(f"/v1/phone-codes/{sent['id']}/confirm", json={"phone": PHONE, "code": code_in(message)},
                        headers=ZH)
    assert again.status_code == 409 and reasons(again)["code"] == "该验证码已使用，请重新获取"


def test_store_phone_code_without_phone_or_code_in_clear(client):
    sent = ask(client).json()
    code = code_in(sms_sent(client)[0])
    with client.app.state.runtime.db.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM phone_code WHERE id = :id"), {"id": sent["id"]}).mappings().one()
    assert PHONE not in json.dumps({k: str(v) for k, v in row.items()})
    assert code not in row["code_hash"] and len(row["code_hash"]) == 64


def test_confirm_wrong_code_three_times_locks_the_request(client):
    sent = ask(client).json()
    code = code_in(sms_sent(client)[0])
    wrong = "000000" if code != "000000" else "111111"
    url = f"/v1/phone-codes/{sent['id']}/confirm"
    first = client.post(url, json={"phone": PHONE, "code": wrong}, headers=ZH)
    assert first.status_code == 422 and reasons(first) == {"code": "验证码错误，还可尝试 2 次"}
    assert client.post(url, json={"phone": PHONE, "code": wrong}).status_code == 422
    third = client.post(url, json={"phone": PHONE, "code": wrong}, headers=ZH)
    assert third.status_code == 409, third.text
    assert reasons(third) == {"code": "验证码错误已达 3 次，本次验证码已作废，请重新获取"}
    # Locked: even the right code no longer confirms.
    right = client.post(url, json={"phone": PHONE, "code": code})
    assert right.status_code == 409 and right.json()["error"]["code"] == "code_locked"


def test_confirm_with_another_phone_is_422_naming_phone_and_counts_as_a_wrong_try(client):
    sent = ask(client).json()
    code = code_in(sms_sent(client)[0])
    url = f"/v1/phone-codes/{sent['id']}/confirm"
    resp = client.post(url, json={"phone": "13900139000", "code": code}, headers=ZH)
    assert resp.status_code == 422 and reasons(resp) == {"phone": "手机号与接收验证码的手机号不一致"}
    with client.app.state.runtime.db.engine.connect() as conn:
        assert conn.execute(text("SELECT attempts FROM phone_code")).scalar_one() == 1


def test_confirm_expired_code_is_410_naming_code(client):
    sent = ask(client).json()
    code = code_in(sms_sent(client)[0])
    phones = client.app.state.runtime.phones
    real = phones.clock
    phones.clock = lambda: real() + timedelta(seconds=301)
    resp = client.post(f"/v1/phone-codes/{sent['id']}/confirm", json={"phone": PHONE, "code": code}, headers=ZH)
    assert resp.status_code == 410 and reasons(resp) == {"code": "验证码已过期，请重新获取"}


def test_confirm_unknown_request_is_404_naming_request_id(client):
    resp = client.post(f"/v1/phone-codes/{uuid.uuid4()}/confirm", json={"phone": PHONE, "code": "123456"},
                       headers=ZH)
    assert resp.status_code == 404 and list(reasons(resp)) == ["request_id"]


@pytest.mark.parametrize("phone", ["12345", "2380013800", "138001380001", "abc13800138000"])
def test_request_code_for_a_bad_phone_is_422_naming_phone_and_sends_nothing(client, phone):
    resp = ask(client, phone=phone, **ZH)
    assert resp.status_code == 422 and reasons(resp) == {"phone": "请输入正确的 11 位手机号码"}
    assert stored(client) == 0 and sms_sent(client) == []


def test_request_second_code_within_a_minute_is_429_naming_phone(client):
    assert ask(client).status_code == 202
    resp = ask(client, client_id="device-2", **ZH)
    assert resp.status_code == 429 and list(reasons(resp)) == ["phone"]
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert stored(client) == 1 and len(sms_sent(client)) == 1


def test_request_codes_beyond_the_client_limit_is_429_naming_client_id(client):
    for n in range(3):
        assert ask(client, phone=f"1380013800{n}").status_code == 202
    resp = ask(client, phone="13800138009", **ZH)
    assert resp.status_code == 429 and list(reasons(resp)) == ["client_id"]
    assert "本设备获取验证码过于频繁" in reasons(resp)["client_id"]
    assert stored(client) == 3


def test_make_followup_link_absolute_to_the_console_page_by_default(monkeypatch):
    monkeypatch.setenv("GRIDGOV_CONSOLE_PORT", "8123")
    base = NotificationSettings().public_base_url
    assert followup_rules.link(base, "tok") == "http://127.0.0.1:8123/followups/tok"
    with pytest.raises(ValueError, match="absolute"):
        NotificationSettings(public_base_url="/relative")
