"""The risk API on the embedded stack: hot spots (JSON, GeoJSON, CSV), recurrences and surges over a small city
with a planted hot spot, a recurring problem and a surge; bad input refused naming the parameter; roles; caching.

A 6 × 6 lattice of grids (0.01° squares, two villages of one town), 8 weeks of history (2026-10-05 .. 2026-11-29)
loaded through the read model's own history loader: 2 cases a grid-week everywhere, 12 on a block of 4 grids, spread
over the days of the week.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_SECRET
from gridgov_analytics.app import create_app
from gridgov_analytics.cube.backfill import load_history
from gridgov_analytics.grids import service as grids
from gridgov_analytics.settings import AnalyticsSettings
from gridgov_common.events.grids import GridPublished
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.settings import CommonSettings
from services.analytics.tests.support import bearer

CN = timezone(timedelta(hours=8))
TOWN = "441900031"
VILLAGES = ("441900031001", "441900031002")
FIRST, LAST = date(2026, 10, 5), date(2026, 11, 29)  # Monday .. Sunday: 8 whole weeks
HOT = {(1, 1), (1, 2), (2, 1), (2, 2)}
RANGE = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


def code(row: int, col: int) -> str:
    return f"{VILLAGES[col // 3]}{row * 6 + col + 1:03d}"


def square(row: int, col: int) -> dict:
    x, y = 113.60 + col * 0.01, 23.00 + row * 0.01
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01],
                                                [x, y]]]}


def registered(ticket_id: str, grid: str, at: datetime, category: str = "01001") -> tuple[str, TicketEvent]:
    return "ticket.registered", TicketEvent(
        ticket_id=ticket_id, report_id=f"R-{ticket_id}", action="register", from_state=None, to_state="registered",
        category_code=category, department="urban-management", grid_code=grid, village_code=grid[:12],
        town_code=TOWN, reporter_id="citizen-42", deadline=at + timedelta(days=3), actor_id="dispatch",
        actor_role="system", occurred_at=at, channel="hotline")


def closed(ticket_id: str, grid: str, at: datetime, category: str = "04002") -> tuple[str, TicketEvent]:
    event = registered(ticket_id, grid, at, category)[1].model_copy(
        update={"action": "close", "from_state": "verified", "to_state": "closed"})
    return "ticket.closed", event


def history() -> list[tuple[str, TicketEvent]]:
    events = []
    for week in range(8):
        for row in range(6):
            for col in range(6):
                n = 12 if (row, col) in HOT else 2
                for k in range(n):  # spread over the week's days, each grid its own
                    day = FIRST + timedelta(days=7 * week + (3 * k + row * 6 + col) % 7)
                    at = datetime.combine(day, datetime.min.time(), tzinfo=CN) + timedelta(hours=8 + k // 7)
                    events.append(registered(f"T{week}-{row}{col}-{k}", code(row, col), at))
    # a recurring problem: the same drain in grid (4, 4), back twice after the first case was closed
    drain = code(4, 4)
    events += [registered("D1", drain, datetime(2026, 11, 2, 9, tzinfo=CN), "04002"),
               closed("D1", drain, datetime(2026, 11, 3, 9, tzinfo=CN)),
               registered("D2", drain, datetime(2026, 11, 10, 9, tzinfo=CN), "04002"),
               registered("D3", drain, datetime(2026, 11, 17, 9, tzinfo=CN), "04002")]
    # a surge: 10 cases of one code in grid (5, 0) on 25 November
    events += [registered(f"S{k}", code(5, 0), datetime(2026, 11, 25, 8 + k, tzinfo=CN), "02001")
               for k in range(10)]
    events.sort(key=lambda e: e[1].occurred_at)
    return events


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    """An analytics app of its own (the trends tests count exact totals on theirs), with the city and history."""
    common = CommonSettings(data_dir=tmp_path_factory.mktemp("analytics-risk"), jwt_secret=TEST_SECRET,
                            log_json=False)
    with TestClient(create_app(AnalyticsSettings(common=common, run_consumers=False))) as client:
        db = client.app.state.runtime.db
        with db.session() as session:
            for row in range(6):
                for col in range(6):
                    grids.store_grid(session, GridPublished(
                        grid_code=code(row, col), grid_name=f"测试第{row * 6 + col + 1}网格",
                        village_code=code(row, col)[:12], town_code=TOWN, grid_set_version="1",
                        boundary=square(row, col), published_at=datetime(2026, 1, 1, tzinfo=UTC)))
            session.commit()
        load_history(db, history())
        yield client


def get(client, path, role="command_centre", headers=None, **params):
    return client.get(path, params=params, headers={**bearer(role), **(headers or {})})


def test_hotspots_find_the_planted_persistent_hot_spot(client):
    resp = get(client, "/v1/risk/hotspots", **RANGE)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["steps"] == [(FIRST + timedelta(days=7 * k)).isoformat() for k in range(8)]
    assert body["alpha"] == 0.05 and len(body["grids"]) == 36
    by_code = {g["grid_code"]: g for g in body["grids"]}
    for cell in HOT:
        grid = by_code[code(*cell)]
        assert grid["class"] == "persistent_hot" and grid["trend"] == "none", grid
        assert grid["count"] == 96 and grid["z_last"] > 3
        assert (grid["village_code"], grid["town_code"]) == (code(*cell)[:12], TOWN)
    assert by_code[code(5, 5)]["class"] == "no_pattern" and by_code[code(5, 5)]["count"] == 16
    assert body["summary"]["persistent_hot"] >= 4 and sum(body["summary"].values()) == 36
    assert body["grids"][0]["class"] != "no_pattern"  # those with a pattern come first


def test_hotspots_of_a_village_list_its_grids_with_the_city_wide_class(client):
    body = get(client, "/v1/risk/hotspots", area=f"village:{VILLAGES[0]}", **RANGE).json()
    assert {g["grid_code"][:12] for g in body["grids"]} == {VILLAGES[0]} and len(body["grids"]) == 18
    assert {g["class"] for g in body["grids"] if g["grid_code"] == code(1, 1)} == {"persistent_hot"}


def test_hotspots_category_filter_counts_only_that_code(client):
    body = get(client, "/v1/risk/hotspots", category="04002", **RANGE).json()
    counts = {g["grid_code"]: g["count"] for g in body["grids"]}
    assert counts[code(4, 4)] == 3 and sum(counts.values()) == 3


def test_hotspots_geojson_export(client):
    resp = get(client, "/v1/risk/hotspots.geojson", **RANGE)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/geo+json")
    assert "attachment" in resp.headers["content-disposition"]
    body = resp.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 36
    feature = next(f for f in body["features"] if f["id"] == code(1, 1))
    assert feature["geometry"] == square(1, 1)
    assert feature["properties"]["class"] == "persistent_hot" and feature["properties"]["grid_name"] == "测试第8网格"


def test_hotspots_csv_export_opens_in_excel(client):
    resp = get(client, "/v1/risk/hotspots.csv", **RANGE)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert len(rows) == 36 and list(rows[0]) == ["grid_code", "grid_name", "village_code", "town_code", "class",
                                                 "count", "z_last", "trend", "trend_p"]
    row = next(r for r in rows if r["grid_code"] == code(1, 1))
    assert (row["grid_name"], row["class"], row["count"]) == ("测试第8网格", "persistent_hot", "96")


def test_recurrences_list_the_problem_that_came_back(client):
    resp = get(client, "/v1/risk/recurrences", category="04002", **RANGE)
    assert resp.status_code == 200, resp.text
    [item] = resp.json()["items"]
    assert (item["grid_code"], item["category_code"], item["count"], item["after_closure"]) == \
        (code(4, 4), "04002", 3, 2)
    assert item["ticket_ids"] == ["D3", "D2", "D1"] and item["score"] == 5
    assert item["village_code"] == VILLAGES[1] and item["town_code"] == TOWN
    everything = get(client, "/v1/risk/recurrences", limit=5, **RANGE).json()["items"]
    assert len(everything) == 5 and everything[0]["count"] == 96  # the hot block's grids lead by volume


def test_surges_find_the_day(client):
    resp = get(client, "/v1/risk/surges", level="grid", **RANGE)
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert items and items[0] | {"z": 0, "expected": 0, "ratio": 0} == {
        "level": "grid", "code": code(5, 0), "category_code": "02001", "day": "2026-11-25", "count": 10,
        "z": 0, "expected": 0, "ratio": 0}
    assert items[0]["z"] >= 3
    assert all(i["day"] == "2026-11-25" for i in items)  # the steady 2 a week never surges
    village = get(client, "/v1/risk/surges", level="village", **RANGE).json()["items"]
    assert [(i["code"], i["day"]) for i in village] == [(VILLAGES[0], "2026-11-25")]


def test_answers_are_cacheable(client):
    first = get(client, "/v1/risk/hotspots", **RANGE)
    assert first.headers["cache-control"] == "private, max-age=60"
    again = get(client, "/v1/risk/hotspots", headers={"If-None-Match": first.headers["etag"]}, **RANGE)
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/v1/risk/hotspots", "/v1/risk/hotspots.geojson", "/v1/risk/hotspots.csv",
                                  "/v1/risk/recurrences", "/v1/risk/surges"])
def test_roles(client, path):
    assert client.get(path, params=RANGE).status_code == 401
    assert get(client, path, role="dept_dispatcher", **RANGE).status_code == 403
    assert get(client, path, role="grid_worker", **RANGE).status_code == 403
    for role in ("command_centre", "admin"):
        assert get(client, path, role=role, **RANGE).status_code == 200


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"from": "2026-11-29", "to": "2026-11-01"}, 422, "to"),  # reversed
    ({"from": "2025-01-01", "to": "2026-11-29"}, 422, "to"),  # longer than 400 days
    ({"from": "1999-12-01", "to": "2000-01-02"}, 422, "from"),  # too far back
    ({"to": "2099-01-01"}, 422, "to"),  # too far ahead
    ({"from": "2026-11-09", "to": "2026-11-29"}, 422, "from"),  # 3 weeks: fewer than 4
    ({"category": "99", **RANGE}, 422, "category"),  # no such catalog code
    ({"area": "town:999999", **RANGE}, 404, "area"),
    ({"area": "county:1", **RANGE}, 422, "area"),
    ({"channel": "fax", **RANGE}, 422, "channel"),
    ({"step": "month", **RANGE}, 422, "step"),
])
def test_hotspots_refuse_bad_input_naming_the_parameter(client, params, status, field):
    resp = get(client, "/v1/risk/hotspots", **params)
    assert resp.status_code == status, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/v1/risk/recurrences", {"limit": "0"}, "limit"),
    ("/v1/risk/recurrences", {"category": "99"}, "category"),
    ("/v1/risk/surges", {"level": "city"}, "level"),
    ("/v1/risk/surges", {"from": "2026-11-29", "to": "2026-11-01"}, "to"),
])
def test_recurrences_and_surges_refuse_bad_input(client, path, params, field):
    resp = get(client, path, **params)
    assert resp.status_code == 422, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


def test_too_few_weeks_is_explained_in_chinese(client):
    resp = get(client, "/v1/risk/hotspots", headers={"Accept-Language": "zh"}, **{"from": "2026-11-09",
                                                                                  "to": "2026-11-29"})
    assert resp.status_code == 422
    detail = resp.json()["error"]["details"][0]
    assert detail["field"] == "from" and "至少需要 4 周" in detail["reason"]


def test_weeks_before_the_data_begin_are_left_out(client):
    # asked from 1 September: the history begins on 5 October, so the empty weeks do not make October look hot
    body = get(client, "/v1/risk/hotspots", **{"from": "2026-09-01", "to": LAST.isoformat()}).json()
    assert body["steps"][0] == FIRST.isoformat() and len(body["steps"]) == 8
    assert {g["class"] for g in body["grids"] if g["grid_code"] == code(1, 1)} == {"persistent_hot"}


def test_weeks_still_to_come_are_left_out(client):
    from gridgov_analytics.trends.handlers import local_today

    today = local_today()
    params = {"from": (today - timedelta(days=70)).isoformat(), "to": (today + timedelta(days=30)).isoformat()}
    body = get(client, "/v1/risk/hotspots", **params).json()
    assert body["steps"][-1] == (today - timedelta(days=6)).isoformat()  # the last week ends today, not on `to`
    assert body["to"] == params["to"]
