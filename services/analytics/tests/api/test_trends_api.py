"""The trends API on the embedded stack: counts, indicators and areas from ticket events on the bus, the refusals
of bad input (naming the parameter, in Chinese when asked), roles, caching, and a rebuild from the bus."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.analytics.tests.support import (
    GRIDS,
    TOWN,
    VILLAGE,
    bearer,
    grid_envelope,
    publish,
    rating_envelope,
    ticket_envelope,
    wait_cube,
)

CN = timezone(timedelta(hours=8))
EXPECTED = {"registered": 4, "closed": 2, "closed_late": 1, "escalated": 1, "returned": 1, "rated": 1,
            "dissatisfied": 1, "merged": 1}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=CN)


@pytest.fixture(scope="module")
def client(app_client):
    """The app with four tickets of November 2026 projected (one message delivered twice)."""
    bus = app_client.app.state.runtime.bus
    publish(bus, grid_envelope(GRIDS[0], 113.70), grid_envelope(GRIDS[1], 113.71))
    register_t1 = ticket_envelope("register", "T1", at(2))
    publish(bus,
            register_t1, ticket_envelope("close", "T1", at(3, 6)),  # within its 24 h
            ticket_envelope("register", "T2", at(2), grid=GRIDS[1], category="01001", channel="patrol"),
            ticket_envelope("escalate", "T2", at(3), grid=GRIDS[1], category="01001", channel="patrol"),
            ticket_envelope("close", "T2", at(4), grid=GRIDS[1], category="01001", channel="patrol"),
            rating_envelope("T2", at(5), satisfaction=1),
            ticket_envelope("register", "T3", at(3), channel="citizen"),
            ticket_envelope("return", "T3", at(3, 12), channel="citizen"),
            ticket_envelope("merge", "T3", at(3, 13), channel="citizen"),
            ticket_envelope("register", "T4", at(9), grid=GRIDS[1], category="01001"),
            register_t1)  # redelivered: counted once
    wait_cube(app_client, EXPECTED)
    return app_client


def get(client, path, role="command_centre", **params):
    return client.get(path, params=params, headers=bearer(role))


def test_counts_per_day_of_two_measures(client):
    resp = get(client, "/v1/trends/counts",
               **{"from": "2026-11-02", "to": "2026-11-09", "measure": "registered,closed"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["from"] == "2026-11-02" and len(body["buckets"]) == 8 and body["buckets"][-1] == "2026-11-09"
    series = {s["key"]: s["values"] for s in body["series"]}
    assert series == {"registered": [2, 1, 0, 0, 0, 0, 0, 1], "closed": [0, 1, 1, 0, 0, 0, 0, 0]}


def test_counts_per_week_by_channel_and_filtered(client):
    body = get(client, "/v1/trends/counts", **{"from": "2026-11-02", "to": "2026-11-15", "bucket": "week",
                                               "group_by": "channel"}).json()
    assert body["buckets"] == ["2026-11-02", "2026-11-09"]
    series = {s["key"]: s["values"] for s in body["series"]}
    assert series["hotline"] == [1, 1] and series["patrol"] == [1, 0] and series["citizen"] == [1, 0]
    assert series["open311"] == [0, 0]
    by_class = get(client, "/v1/trends/counts", **{"from": "2026-11-02", "to": "2026-11-15", "bucket": "week",
                                                   "group_by": "category_class"}).json()
    assert {s["key"]: s["values"] for s in by_class["series"]} == {"01": [1, 1], "04": [2, 0]}
    only = get(client, "/v1/trends/counts", **{"from": "2026-11-02", "to": "2026-11-15", "bucket": "week",
                                               "category": "01", "area": f"grid:{GRIDS[1]}"}).json()
    assert only["series"] == [{"key": "registered", "values": [1, 1]}]
    town = get(client, "/v1/trends/counts", **{"from": "2026-11-02", "to": "2026-11-15", "bucket": "week",
                                               "area": f"town:{TOWN}", "channel": "citizen,patrol"}).json()
    assert town["series"] == [{"key": "registered", "values": [2, 0]}]


def test_indicators_per_week(client):
    body = get(client, "/v1/trends/indicators", **{"from": "2026-11-02", "to": "2026-11-15"}).json()
    assert body["registered"] == [3, 1] and body["closed"] == [2, 0]
    assert body["on_time_rate"] == [0.5, None]
    assert body["return_rate"] == [round(1 / 3, 4), 0.0]
    assert body["satisfaction_rate"] == [0.0, None] and body["rework_rate"] == [0.0, None]


def test_areas_list_every_grid_of_a_village(client):
    body = get(client, "/v1/trends/areas", **{"from": "2026-11-02", "to": "2026-11-15", "level": "grid",
                                              "parent": VILLAGE}).json()
    items = {i["code"]: i for i in body["items"]}
    assert set(items) == set(GRIDS)
    assert items[GRIDS[1]]["registered"] == 2 and items[GRIDS[1]]["closed_late"] == 1
    assert items[GRIDS[1]]["dissatisfied"] == 1 and items[GRIDS[0]]["returned"] == 1
    towns = get(client, "/v1/trends/areas", **{"from": "2026-11-02", "to": "2026-11-15"}).json()
    assert towns["items"][0]["code"] == TOWN and towns["items"][0]["registered"] == 4


def test_answers_carry_etag_and_revalidate(client):
    params = {"from": "2026-11-02", "to": "2026-11-09"}
    first = get(client, "/v1/trends/counts", **params)
    assert first.headers["Cache-Control"] == "private, max-age=60" and first.headers["ETag"]
    again = client.get("/v1/trends/counts", params=params,
                       headers={**bearer("admin"), "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize("path", ["/v1/trends/counts", "/v1/trends/indicators", "/v1/trends/areas"])
def test_only_city_wide_roles_read_trends(client, path):
    assert client.get(path).status_code == 401
    for role in ("grid_worker", "dept_dispatcher", "citizen"):
        assert get(client, path, role=role).status_code == 403
    assert get(client, path, role="admin").status_code == 200


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"from": "2026-11-09", "to": "2026-11-02"}, 422, "to"),  # reversed
    ({"from": "2025-01-01", "to": "2026-11-02"}, 422, "to"),  # longer than 400 days
    ({"from": "1999-12-31", "to": "2000-01-02"}, 422, "from"),  # too far back
    ({"to": "2099-01-01"}, 422, "to"),  # too far ahead
    ({"from": "2026-13-01"}, 422, "from"),  # no such month
    ({"from": "2026/11/01"}, 422, "from"),
    ({"from": "2026-11-01\x00"}, 422, "from"),
    ({"area": "town:999999"}, 404, "area"),
    ({"area": "street:1"}, 422, "area"),
    ({"category": "99"}, 422, "category"),
    ({"category": "04;drop"}, 422, "category"),
    ({"category": ",".join(["04"] * 400)}, 422, "category"),  # oversized
    ({"channel": "fax"}, 422, "channel"),
    ({"measure": "registered,bogus"}, 422, "measure"),
    ({"bucket": "month"}, 422, "bucket"),
    ({"group_by": "channel", "measure": "registered,closed"}, 422, "measure"),
])
def test_bad_input_is_refused_naming_the_parameter(client, params, status, field):
    resp = get(client, "/v1/trends/counts", **params)
    assert resp.status_code == status, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


def test_bad_input_is_explained_in_chinese_when_asked(client):
    resp = client.get("/v1/trends/indicators", params={"from": "2026-11-09", "to": "2026-11-02"},
                      headers={**bearer("admin"), "Accept-Language": "zh-CN"})
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert "早于" in error["details"][0]["reason"] and error["details"][0]["field"] == "to"
    parent = client.get("/v1/trends/areas", params={"level": "grid", "parent": "000"},
                        headers={**bearer("admin"), "Accept-Language": "zh"})
    assert parent.status_code == 422 and "镇街" in parent.json()["error"]["details"][0]["reason"]


def test_openapi_documents_the_trends(client):
    spec = client.get("/openapi.json").json()
    counts = spec["paths"]["/v1/trends/counts"]["get"]
    assert {p["name"] for p in counts["parameters"]} >= {"from", "to", "bucket", "area", "category", "channel",
                                                          "measure", "group_by"}
    assert "304" in counts["responses"] and "/v1/admin/rebuild" in spec["paths"]


def test_rebuild_from_the_bus_gives_the_same_counts(client):
    before = get(client, "/v1/trends/counts", **{"from": "2026-11-02", "to": "2026-11-09",
                                                 "measure": ",".join(EXPECTED)}).json()
    assert client.post("/v1/admin/rebuild", headers=bearer("command_centre")).status_code == 403
    resp = client.post("/v1/admin/rebuild", headers=bearer("admin"))
    assert resp.status_code == 202, resp.text
    generation = resp.json()["generation"]
    status = wait_cube(client, EXPECTED)
    assert status["generation"] == generation and status["group"] == f"analytics.cube-{generation}"
    after = get(client, "/v1/trends/counts", **{"from": "2026-11-02", "to": "2026-11-09",
                                                "measure": ",".join(EXPECTED)}).json()
    assert after == before
