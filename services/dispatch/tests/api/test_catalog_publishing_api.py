"""Dispatch owns the event catalog: each published version is announced on ``gridgov.catalog.published`` (the
version in effect again at each start), and the rule-set check covers the catalog's own codes."""

from fastapi.testclient import TestClient

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import CATALOG_PUBLISHED
from gridgov_common.categories import seed_book
from gridgov_common.events.catalog import CATALOG_PUBLISHED_TYPE, CatalogPublished, catalog_message_id
from gridgov_dispatch.app import create_app
from gridgov_dispatch.consumers import FEEDBACK, REGISTER
from gridgov_dispatch.settings import DispatchSettings

CSV = {"Content-Type": "text/csv; charset=utf-8"}
NEW_CLASS = ("30,major,,共享出行,Shared mobility,urban-management,,,1,working_hours,1,working_days,1,working_days,"
             "条例\n30001,middle,30,共享单车乱停放,Shared bikes parked in disorder,,发现乱停放,已清理,,,,,,,\n")


def announcements(client) -> list[Envelope]:
    """Every message on the catalog topic, in log order."""
    runtime = client.app.state.runtime
    runtime.relay.drain()
    rows = runtime.bus._conn().execute('SELECT value FROM log WHERE topic=? ORDER BY appended_at',
                                       (CATALOG_PUBLISHED,)).fetchall()
    return [Envelope.from_bytes(bytes(r[0])) for r in rows]


def publish_new_class(client, token):
    text = client.get("/v1/catalog/export.csv", headers=token("admin")).text + NEW_CLASS
    return client.post("/v1/catalog/import", content=text.encode(), headers={**token("admin", sub="admin-1"), **CSV})


def test_start_announces_the_seeded_version_with_the_packaged_middle_classes(client):
    [first] = announcements(client)
    assert (first.type, first.key, first.id) == (CATALOG_PUBLISHED_TYPE, "catalog-v1", catalog_message_id(1))
    published = CatalogPublished.model_validate(first.payload)
    assert published.version == 1
    assert [(c.code, c.name_zh, c.name_en) for c in published.categories] == \
        [(c.code, c.name_zh, c.name_en) for c in seed_book()]


def test_import_catalog_announces_the_new_version_with_its_new_code(client, token):
    resp = publish_new_class(client, token)
    assert resp.status_code == 201, resp.text
    seeded, published = announcements(client)
    assert (published.key, published.id) == ("catalog-v2", catalog_message_id(2))
    payload = CatalogPublished.model_validate(published.payload)
    assert payload.version == 2
    assert {c.code for c in payload.categories} == {c.code for c in seed_book()} | {"30001"}
    assert seeded.id == catalog_message_id(1)


def test_import_catalog_dry_run_or_refused_announces_nothing(client, token):
    text = client.get("/v1/catalog/export.csv", headers=token("admin")).text + NEW_CLASS
    admin = {**token("admin"), **CSV}
    assert client.post("/v1/catalog/import?dry_run=true", content=text.encode(), headers=admin).status_code == 200
    bad = text + "30002,middle,99,无父类,Orphan,,,,,,,,,,\n"
    assert client.post("/v1/catalog/import", content=bad.encode(), headers=admin).status_code == 422
    assert [e.key for e in announcements(client)] == ["catalog-v1"]


def test_restart_announces_the_version_in_effect_again_under_the_same_id(common_settings, token):
    with TestClient(create_app(DispatchSettings(common=common_settings))) as first:
        assert publish_new_class(first, token).status_code == 201
    with TestClient(create_app(DispatchSettings(common=common_settings))) as second:
        ids = [e.id for e in announcements(second)]
    # v1 at the first start, v2 at its import, v2 again at the restart: a consumer handles it once (same id).
    assert ids == [catalog_message_id(1), catalog_message_id(2), catalog_message_id(2)]


def test_validate_rules_checks_the_codes_of_the_current_catalog(client, token):
    rules = client.get("/v1/rules", headers=token("admin")).json()["rules"]
    before = client.post("/v1/rules/validate", json={"rules": rules}, headers=token("admin"))
    assert before.status_code == 200 and before.json()["categories_checked"] == len(seed_book())
    assert publish_new_class(client, token).status_code == 201
    after = client.post("/v1/rules/validate", json={"rules": rules}, headers=token("admin"))
    assert after.status_code == 422  # the seeded rules send nothing of the new major class 30 anywhere
    reasons = [d["reason"] for d in after.json()["error"]["details"]]
    assert any(r.startswith("category 30001 is unroutable") for r in reasons), reasons


def test_consumer_tables_route_each_message_type_to_one_handler():
    assert REGISTER.describe() == {"report.located": ["register_located_report"]}
    assert FEEDBACK.describe() == {"feedback.received": ["record_rating"]}
