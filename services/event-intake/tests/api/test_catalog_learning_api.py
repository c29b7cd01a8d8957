"""Intake learns dispatch's catalog versions from ``gridgov.catalog.published`` and checks reports against the
version in effect (embedded stack; dispatch is played by messages put on the bus)."""

import time
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, make_url
from sqlmodel import select

from conftest import require_infra
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import CATALOG_PUBLISHED, REPORTS_RECEIVED
from gridgov_common.categories import seed_book
from gridgov_common.db import OutboxSession
from gridgov_common.events.catalog import (
    CATALOG_PUBLISHED_TYPE,
    CatalogPublished,
    CategoryEntry,
    catalog_key,
    catalog_message_id,
)
from gridgov_event_intake.app import create_app
from gridgov_event_intake.catalog.models import CatalogCategory, CatalogVersion
from gridgov_event_intake.consumers import CATALOG, TICKET_STATUS
from gridgov_event_intake.reports import handlers
from gridgov_event_intake.settings import IntakeSettings

NEW_CODE = "30001"  # not in the packaged first version
REPORT = {"description": "共享单车堆积堵塞人行道", "lon": 113.75, "lat": 23.02}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def client(request, common_settings):
    """Intake on SQLite, and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        with TestClient(create_app(IntakeSettings(common=common_settings))) as c:
            yield c
        return
    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL")
    name = f"gg_intake_cat_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    url = make_url(admin).set(drivername="postgresql+psycopg", username="gridgov", password="gridgov",
                              database=name).render_as_string(hide_password=False)
    try:
        with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
            yield c
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def version_envelope(version: int, *extra: tuple[str, str, str], without: str | None = None) -> Envelope:
    """A catalog version as dispatch announces it: the seed's middle classes, plus ``extra``, minus ``without``."""
    entries = [CategoryEntry(code=c.code, name_zh=c.name_zh, name_en=c.name_en) for c in seed_book()
               if c.code != without]
    entries += [CategoryEntry(code=code, name_zh=zh, name_en=en) for code, zh, en in extra]
    payload = CatalogPublished(version=version, published_at=datetime.now(UTC), categories=entries)
    envelope = new_envelope(type=CATALOG_PUBLISHED_TYPE, producer="dispatch", key=catalog_key(version),
                            payload=payload, correlation_id=catalog_key(version))
    return envelope.model_copy(update={"id": catalog_message_id(version)})


def announce(client, *envelopes: Envelope) -> None:
    """Put announcements on the bus and wait until intake's catalog consumer has handled them."""
    runtime = client.app.state.runtime
    [runner] = [r for r in runtime.runners if r.group == CATALOG.group]
    before = runner.handled
    runtime.bus.publish([OutgoingMessage(CATALOG_PUBLISHED, e.key, e.to_bytes()) for e in envelopes])
    deadline = time.monotonic() + 15
    while runner.handled < before + len(envelopes):
        assert time.monotonic() < deadline, "intake's catalog consumer did not handle the announcement"
        time.sleep(0.02)


def post_patrol(client, token, code: str):
    return client.post("/v1/reports/patrol", json={**REPORT, "category_code": code},
                       headers=token("grid_worker", grid="441900001001001"))


def received_codes(client) -> list[str]:
    """The category codes published on gridgov.reports.received, once the outbox is empty."""
    runtime = client.app.state.runtime
    runtime.relay.drain()
    deadline = time.monotonic() + 15
    # On PostgreSQL the relay thread may hold the outbox lock while drain() looks: wait for the outbox to empty.
    while runtime.db.outbox_backlog():
        assert time.monotonic() < deadline, "the outbox was not relayed"
        time.sleep(0.02)
    rows = runtime.bus._conn().execute("SELECT value FROM log WHERE topic=? ORDER BY appended_at",
                                       (REPORTS_RECEIVED,)).fetchall()
    return [Envelope.from_bytes(bytes(r[0])).payload["category_code"] for r in rows]


def test_post_report_before_any_published_version_checks_the_packaged_first_version(client, token):
    assert post_patrol(client, token, "04002").status_code == 202
    refused = post_patrol(client, token, NEW_CODE)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [{"field": "category_code", "reason": f"unknown category {NEW_CODE}"}]
    assert received_codes(client) == ["04002"]


def test_post_report_with_code_of_learned_version_is_accepted_and_dropped_code_refused(client, token):
    announce(client, version_envelope(2, (NEW_CODE, "共享单车乱停放", "Shared bikes parked in disorder"),
                                      without="01009"))
    accepted = post_patrol(client, token, NEW_CODE)
    assert accepted.status_code == 202, accepted.text
    dropped = post_patrol(client, token, "01009")  # graffiti is not in version 2
    assert dropped.status_code == 422
    assert [d["field"] for d in dropped.json()["error"]["details"]] == ["category_code"]
    assert received_codes(client) == [NEW_CODE]


def test_open311_services_list_the_version_in_effect(client):
    announce(client, version_envelope(2, (NEW_CODE, "共享单车乱停放", "Shared bikes parked in disorder"),
                                      without="01009"))
    codes = {s["service_code"]: s["service_name"] for s in client.get("/open311/v2/services.json").json()}
    assert codes[NEW_CODE] == "Shared bikes parked in disorder" and "01009" not in codes
    assert len(codes) == len(seed_book())  # one added, one dropped
    assert client.get(f"/open311/v2/services/{NEW_CODE}.json").status_code == 200
    assert client.get("/open311/v2/services/01009.json").status_code == 404


def test_post_report_checks_the_highest_version_whatever_the_arrival_order(client, token):
    # Dispatch re-announces the version in effect at each start: a stale announcement may arrive after a newer.
    v3 = version_envelope(3, ("30002", "电动车飞线充电", "E-bike charged by a cable from a window"))
    v2 = version_envelope(2, (NEW_CODE, "共享单车乱停放", "Shared bikes parked in disorder"))
    announce(client, v3, v2)
    assert post_patrol(client, token, "30002").status_code == 202
    assert post_patrol(client, token, NEW_CODE).status_code == 422


def test_learn_catalog_version_announced_twice_stores_it_once(client):
    first = version_envelope(2, (NEW_CODE, "共享单车乱停放", "Shared bikes parked in disorder"))
    again = first.model_copy(update={"occurred_at": datetime.now(UTC)})  # the announcement at the next start
    announce(client, first, again)
    with client.app.state.runtime.db.session() as session:
        assert session.exec(select(func.count()).select_from(CatalogVersion)).one() == 1
        assert session.exec(select(func.count()).select_from(CatalogCategory)).one() == len(seed_book()) + 1


def test_consumer_tables_route_each_message_type_to_one_handler():
    assert CATALOG.describe() == {CATALOG_PUBLISHED_TYPE: ["learn_catalog"]}
    followed = TICKET_STATUS.describe()
    assert followed["ticket.closed"] == ["follow_ticket"] and followed["ticket.verified"] == ["follow_ticket"]
    # The command centre's own steps are not news to the reporter: not routed at all.
    assert not {"ticket.warned", "ticket.escalated", "ticket.supervised"} & followed.keys()


def test_import_report_handlers_attaches_nothing_to_the_shared_session_class():
    assert not event.contains(OutboxSession, "before_commit", handlers.write_staged)
    with pytest.raises(TypeError, match="ReportSession"):
        handlers._stage(OutboxSession(), {"id": "r-1"})
