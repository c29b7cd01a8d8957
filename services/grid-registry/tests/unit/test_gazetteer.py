"""The gazetteer, pure: built from the demo grid set and the demo roads and landmarks, no database."""

import csv
import io
import time

import pytest

from gridgov_grid_registry.grids.index import GridIndex
from gridgov_grid_registry.places.gazetteer import Gazetteer, PlaceArea, PlacePoint, areas_from_records, normalise
from gridgov_grid_registry.places.handlers import demo_seed_text


@pytest.fixture(scope="module")
def demo(city):
    index = GridIndex(city.grid_set.areas, city.grid_set.version)
    points = []
    for row in csv.DictReader(io.StringIO(demo_seed_text())):
        where = index.locate(float(row["lon"]), float(row["lat"]))
        points.append(PlacePoint(row["name"], tuple(a for a in row["aliases"].split("|") if a), row["kind"],
                                 float(row["lon"]), float(row["lat"]), where.grid_code, where.village_code,
                                 where.town_code))
    return Gazetteer(areas_from_records(city.grid_set.areas), points, city.grid_set.version)


@pytest.fixture(scope="module")
def names(city):
    by_code = {a.code: a for a in city.grid_set.areas}
    return by_code


def test_demo_seed_points_lie_in_the_towns_they_name(city):
    index = GridIndex(city.grid_set.areas, city.grid_set.version)
    rows = list(csv.DictReader(io.StringIO(demo_seed_text())))
    assert len(rows) >= 60
    for row in rows:
        assert index.locate(float(row["lon"]), float(row["lat"])).town_name == row["town"], row["name"]


def test_resolve_town_village_and_grid_gives_grid(demo):
    r = demo.resolve("东莞市南城街道洲源社区第2网格")
    assert (r.status, r.grid_code, r.village_code, r.town_code) == ("located", "441900004003002", "441900004003",
                                                                     "441900004")
    assert r.confidence >= 0.9
    assert [m.level for m in r.matched] == ["town", "village", "grid"]


def test_resolve_grid_number_in_chinese_numerals(demo):
    assert demo.resolve("南城洲源社区第二网格").grid_code == "441900004003002"


def test_resolve_town_and_village_gives_village_only_with_centroid(demo):
    r = demo.resolve("南城街道洲源社区宏图路3号")
    assert (r.status, r.village_code, r.town_name) == ("village_only", "441900004003", "南城街道")
    assert r.lon is not None and r.lat is not None
    assert r.matched_text == "南城街道洲源社区"
    assert r.confidence >= 0.9


def test_resolve_town_alias_without_suffix(demo):
    for text in ("南城", "虎门", "虎门镇", "南城镇"):
        r = demo.resolve(text + "某某大厦")
        assert r.status == "town_only" and r.town_code in ("441900004", "441900121"), text
    assert demo.resolve("虎门").town_name == "虎门镇"


def test_resolve_village_stem_inside_named_town(demo):
    r = demo.resolve("南城洲源")
    assert (r.status, r.village_code) == ("village_only", "441900004003")


def test_resolve_village_under_another_town_is_not_confident(demo):
    r = demo.resolve("东城街道洲源社区")  # 洲源社区 is in 南城街道
    assert r.status == "town_only" and r.town_name == "东城街道"
    assert r.village_code is None
    assert r.confidence < 0.5


def test_resolve_village_name_shared_across_towns_without_town_is_unlocated(demo, city):
    from collections import Counter

    counts = Counter(a.name for a in city.grid_set.areas if a.level == "village")
    shared = next(n for n, c in counts.items() if c > 1)
    r = demo.resolve(shared + "12号")
    assert r.status == "unlocated" and r.confidence < 0.5
    towns = {a.parent_code for a in city.grid_set.areas if a.name == shared}
    town = next(a for a in city.grid_set.areas if a.code == sorted(towns)[0])
    r = demo.resolve(town.name + shared)
    assert r.status == "village_only" and r.town_code == town.code and r.confidence >= 0.9


def test_resolve_landmark_gives_its_grid_and_point(demo):
    r = demo.resolve("虎门镇威远炮台附近")
    assert r.status == "located" and r.town_name == "虎门镇" and r.grid_code is not None
    assert r.matched[-1].level == "landmark"
    alone = demo.resolve("威远炮台")
    assert alone.grid_code == r.grid_code and 0.8 <= alone.confidence < r.confidence


def test_resolve_road_gives_village_only(demo):
    r = demo.resolve("东莞市南城区宏伟路88号")
    assert r.status == "village_only" and r.town_name == "南城街道" and r.matched[-1].level == "road"


def test_resolve_landmark_in_another_town_than_named_is_not_confident(demo):
    r = demo.resolve("东城街道威远炮台")
    assert r.town_name == "东城街道" and r.status == "town_only" and r.confidence < 0.5


@pytest.mark.parametrize("text", ["", "   ", "hello world", "Улица Ленина 5", "123456", "\u200b", "。。。",
                                  "某地某处"])
def test_resolve_nothing_known_is_unlocated(demo, text):
    r = demo.resolve(text)
    assert r.status == "unlocated" and r.confidence < 0.5 and r.town_code is None


def test_resolve_full_width_and_spaces_normalised(demo):
    assert normalise("南城 洲源社区 第２网格") == "南城洲源社区第2网格"
    assert demo.resolve("南城 洲源社区 第２网格").grid_code == "441900004003002"


def test_resolve_is_fast(demo):
    texts = ["东莞市虎门镇连升路188号金龙商业广场3楼", "南城街道洲源社区第2网格鸿福路12号",
             "松山湖大学路1号", "这个地址什么都没有提到" * 5]
    start = time.perf_counter()
    for _ in range(250):
        for t in texts:
            demo.resolve(t)
    per_ms = (time.perf_counter() - start) / 1000 * 1000
    assert per_ms < 1.0


def test_ambiguous_stem_inside_one_town_has_no_stem_alias():
    areas = [PlaceArea("441900001", "甲镇", "town", None, 1, 1),
             PlaceArea("441900001001", "新安村", "village", "441900001", 1, 1),
             PlaceArea("441900001002", "新安社区", "village", "441900001", 1, 1)]
    g = Gazetteer(areas)
    assert g.resolve("甲镇新安").status == "town_only"  # two villages share the stem: the town only
    assert g.resolve("甲镇新安村").village_code == "441900001001"


def test_resolve_village_with_one_sound_alike_slip_inside_named_town_is_unsure(demo):
    r = demo.resolve("南城洲园社区3号")  # 洲源社区 written with 园 for 源
    assert (r.status, r.village_code) == ("village_only", "441900004003")
    assert r.confidence <= 0.6
    assert demo.resolve("洲园社区").status == "unlocated"  # no town named: no guessing


def test_resolve_address_in_another_city_is_unlocated(demo):
    for text in ("深圳市龙岗区布吉街道", "广东省广州市天河区体育西路"):
        assert demo.resolve(text).status == "unlocated", text
    assert demo.resolve("广东省东莞市南城区宏伟路").town_name == "南城街道"
    assert demo.resolve("寮步香市公园").town_name == "寮步镇"


def test_resolve_stem_of_another_towns_village_inside_a_name_does_not_clash(demo, city):
    # A village of the named town found: a stem of another town's village elsewhere in the text is no clash.
    r = demo.resolve("南城街道洲源社区旁边的莲湖公园")
    assert r.village_code == "441900004003" and r.confidence >= 0.9
