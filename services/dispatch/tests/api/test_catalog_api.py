"""The event catalog API on the embedded stack: read, versions, export, import (dry run, publish, refusals)."""

import threading
import time
from types import SimpleNamespace

from gridgov_common.db import Database
from gridgov_common.migrations import upgrade_to_head
from gridgov_dispatch import cache
from gridgov_dispatch.app import metadata
from gridgov_dispatch.catalog import service

CSV = {"Content-Type": "text/csv; charset=utf-8"}


def admin(token):
    return {**token("admin", sub="admin-1"), **CSV}


def export(client, token, version=None):
    params = {"version": version} if version else {}
    resp = client.get("/v1/catalog/export.csv", params=params, headers=token("command_centre"))
    assert resp.status_code == 200, resp.text
    return resp


def test_get_catalog_seeded_version_one_with_resolved_items(client, token):
    resp = client.get("/v1/catalog", headers=token("grid_worker", grid="441900003001001"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["version"] == 1 and body["published_by"] == "seed"
    assert len(body["items"]) >= 100
    burst = next(i for i in body["items"] if i["code"] == "04002")
    assert burst["name_zh"] == "自来水管破裂"
    assert burst["resolved"]["department_type"] == "water"
    assert burst["resolved"]["handle"] == {"amount": 2, "unit": "clock_hours"}
    assert burst["resolved"]["claim"] == {"amount": 1, "unit": "clock_hours"}  # inherited from 04 突发事件


def test_get_catalog_filters_by_level_and_prefix(client, token):
    resp = client.get("/v1/catalog", params={"level": "detail", "prefix": "01001"}, headers=token("admin"))
    assert resp.status_code == 200, resp.text
    assert [i["code"] for i in resp.json()["items"]] == ["010010101", "010010102", "010010103"]


def test_get_catalog_bad_level_or_unknown_version_is_refused(client, token):
    assert client.get("/v1/catalog", params={"level": "huge"}, headers=token("admin")).status_code == 422
    resp = client.get("/v1/catalog", params={"version": 99}, headers=token("admin"))
    assert resp.status_code == 404


def test_get_catalog_without_token_is_unauthorised(client, token):
    assert client.get("/v1/catalog").status_code == 401
    assert client.get("/v1/catalog", headers=token("citizen")).status_code == 403


def test_export_catalog_csv_reads_back_through_import_unchanged(client, token):
    resp = export(client, token)
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.text == service.seed_csv()
    dry = client.post("/v1/catalog/import", params={"dry_run": True}, content=resp.content, headers=admin(token))
    assert dry.status_code == 200, dry.text
    assert dry.json() == {"dry_run": True, "version": 2, "item_count": resp.text.count("\n") - 1,
                          "added": [], "removed": [], "changed": []}


def test_import_catalog_dry_run_stores_nothing(client, token):
    text = export(client, token).text.replace("暴露垃圾,Exposed garbage", "暴露垃圾,Garbage left in the open")
    dry = client.post("/v1/catalog/import?dry_run=true", content=text.encode(), headers=admin(token))
    assert dry.status_code == 200, dry.text
    assert dry.json()["changed"] == ["01002"]
    versions = client.get("/v1/catalog/versions", headers=token("admin")).json()
    assert [v["version"] for v in versions] == [1]


def test_import_catalog_publishes_a_new_current_version(client, token, stack):
    text = export(client, token).text
    text = text.replace(",,,2,clock_hours,,,", ",,,3,clock_hours,,,", 1)  # 04001 路面塌陷: 2 → 3 clock hours
    text += "04007,middle,04,地面沉降,Ground subsidence,,发现地面沉降,已处置,,,,,,,\n"
    resp = client.post("/v1/catalog/import", params={"note": "04 revised"}, content=text.encode(),
                       headers=admin(token))
    assert resp.status_code == 201, resp.text
    assert resp.json()["version"] == 2 and resp.json()["added"] == ["04007"]
    assert resp.json()["changed"] == ["04001"]
    current = client.get("/v1/catalog", params={"prefix": "0400"}, headers=token("admin")).json()
    assert current["version"] == 2 and current["note"] == "04 revised" and current["published_by"] == "admin-1"
    by_code = {i["code"]: i for i in current["items"]}
    assert by_code["04001"]["handle"] == {"amount": 3, "unit": "clock_hours"}
    assert by_code["04007"]["resolved"]["department_type"] == "housing"
    # The in-process catalog sees the import at once.
    assert service.current_catalog(stack.runtime.db).resolved("04007").department_type == "housing"
    # The first version stays readable.
    old = client.get("/v1/catalog", params={"version": 1, "prefix": "04001"}, headers=token("admin")).json()
    assert old["items"][0]["handle"] == {"amount": 2, "unit": "clock_hours"}
    versions = client.get("/v1/catalog/versions", headers=token("command_centre")).json()
    assert [(v["version"], v["item_count"]) for v in versions] == [(2, old_count(client, token) + 1),
                                                                     (1, old_count(client, token))]
    exported = export(client, token, version=2).text
    assert sorted(exported.splitlines()) == sorted(text.splitlines())  # the same rows, exported in code order


def old_count(client, token):
    return len(client.get("/v1/catalog", params={"version": 1}, headers=token("admin")).json()["items"])


def test_import_bad_catalog_names_rows_and_changes_nothing(client, token):
    before = export(client, token).text
    lines = before.splitlines()
    lines[2] = lines[2].replace("working_hours", "hours", 1)  # 01001's handle unit
    lines.append("04008,middle,04,燃气泄漏,Gas leak,gas-company,,,,,,,,,")
    lines.append("0400901,minor,04009,井喷,x,,,,,,,,,,")
    resp = client.post("/v1/catalog/import", content="\n".join(lines).encode(), headers=admin(token))
    assert resp.status_code == 422, resp.text
    details = resp.json()["error"]["details"]
    fields = [d["field"] for d in details]
    assert "row 3: handle_unit" in fields
    assert any(d["reason"].startswith("01001: unknown unit 'hours'") for d in details)
    assert len(details) == 1  # row problems come first: cross-row checks wait until every row parses
    lines[2] = before.splitlines()[2]
    resp = client.post("/v1/catalog/import", content="\n".join(lines).encode(), headers=admin(token))
    assert resp.status_code == 422
    assert sorted((d["field"], d["reason"].split(":")[0]) for d in resp.json()["error"]["details"]) == [
        (f"row {len(lines) - 1}: department_type", "04008"), (f"row {len(lines)}: parent_code", "0400901")]
    assert [v["version"] for v in client.get("/v1/catalog/versions", headers=token("admin")).json()] == [1]
    assert export(client, token).text == before


def test_import_catalog_needs_admin(client, token):
    body = export(client, token).content
    resp = client.post("/v1/catalog/import", content=body, headers={**token("command_centre"), **CSV})
    assert resp.status_code == 403


def test_import_catalog_other_content_type_is_unsupported(client, token):
    body = export(client, token).content
    resp = client.post("/v1/catalog/import", content=body,
                       headers={**token("admin"), "Content-Type": "application/json"})
    assert resp.status_code == 415
    assert resp.json()["error"]["details"][0]["field"] == "Content-Type"


def test_import_catalog_not_utf8_is_refused(client, token):
    body = export(client, token).text.encode("gb18030")
    resp = client.post("/v1/catalog/import", content=body, headers=admin(token))
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "body"


def test_list_departments_shows_bureaus_and_town_branches(client, token):
    resp = client.get("/v1/departments", headers=token("command_centre"))
    assert resp.status_code == 200, resp.text
    by_code = {d["code"]: d for d in resp.json()}
    assert by_code["urban-management"]["level"] == "city"
    assert by_code["urban-management"]["department_type"] == "urban-management"
    assert by_code["fire-safety"]["name_zh"] == "消防救援支队"
    branch = by_code["urban-management-441900003"]
    assert (branch["level"], branch["parent_code"], branch["town_code"], branch["department_type"]) == (
        "town", "urban-management", "441900003", "urban-management")


def test_seed_catalog_twice_at_once_keeps_one_version(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'two.db'}", metadata, "dispatch")
    upgrade_to_head(db, "gridgov_dispatch")
    errors = []

    def start():
        try:
            service.seed(db)
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    service.seed(db)  # a later restart changes nothing
    assert errors == []
    with db.session() as session:
        assert [v.version for v in service.list_versions(session)] == [1]
        assert len(service.list_items(session, 1)) == len(service.seed_csv().splitlines()) - 1
    db.engine.dispose()


def test_current_catalog_sees_another_instances_import_within_30_seconds(stack, monkeypatch):
    db = stack.runtime.db
    assert service.current_catalog(db).version == 1
    with db.session() as session:  # another instance publishes: this one's cache does not know yet
        items = service.list_items(session, 1)
        service.store(session, items[:-1], published_by="admin-2", note="elsewhere")
        session.commit()
    assert service.current_catalog(db).version == 1
    later = time.monotonic() + cache.REFRESH_SECONDS + 1
    monkeypatch.setattr(cache, "time", SimpleNamespace(monotonic=lambda: later))  # 31 s on, for the cache only
    catalog = service.current_catalog(db)
    assert catalog.version == 2 and len(catalog) == len(items) - 1
