"""Issue #11 on notification: the public follow-up link refuses NUL in its path and body naming the field (on
PostgreSQL it answered 500), strict numbers in the answer, and oversized bodies before anything reads them."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from conftest import require_infra
from gridgov_notification.app import create_app
from gridgov_notification.settings import NotificationSettings


@pytest.fixture(params=["sqlite", "postgresql"])
def any_client(request, common_settings):
    """Notification on SQLite, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        with TestClient(create_app(NotificationSettings(common=common_settings))) as c:
            yield c
        return
    import psycopg

    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL")
    name = f"gg_notif_guard_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    url = make_url(admin).set(drivername="postgresql+psycopg", username="gridgov", password="gridgov",
                              database=name).render_as_string(hide_password=False)
    try:
        with TestClient(create_app(NotificationSettings(common=common_settings, database_url=url))) as c:
            yield c
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fields(resp) -> list[str]:
    return [d["field"] for d in resp.json()["error"]["details"]]


def test_followup_with_nul_in_token_is_422_naming_token(any_client):
    resp = any_client.get("/v1/followups/%00")
    assert resp.status_code == 422, resp.text
    assert fields(resp) == ["token"]
    resp = any_client.post("/v1/followups/ab%00cd", json={"solved": True, "satisfaction": 5})
    assert resp.status_code == 422 and fields(resp) == ["token"]


def test_followup_answer_with_nul_in_comment_is_422_naming_comment(any_client):
    resp = any_client.post("/v1/followups/" + "a" * 32, json={"solved": True, "satisfaction": 5,
                                                              "comment": "好\u0000"})
    assert resp.status_code == 422 and fields(resp) == ["comment"]


@pytest.mark.parametrize("satisfaction", [True, "5", 4.0])
def test_followup_answer_with_non_integer_satisfaction_is_422_naming_it(any_client, satisfaction):
    resp = any_client.post("/v1/followups/" + "a" * 32, json={"solved": True, "satisfaction": satisfaction})
    assert resp.status_code == 422 and "satisfaction" in fields(resp)


def test_oversized_followup_answer_is_413_before_reading(any_client):
    resp = any_client.post("/v1/followups/" + "a" * 32, content=b"x" * (2 << 20),
                           headers={"content-type": "application/json"})
    assert resp.status_code == 413 and fields(resp) == ["body"]
