"""The hand-written address evaluation set (places/data/eval_addresses.tsv) is well formed against the demo city:
300 addresses as a 12345 operator types them, every code a real town or village of the generated Dongguan, every
village under its town, and the kinds of answer the issue asks to measure (village, town only, nothing)."""

import csv
from collections import Counter
from importlib import resources

import pytest

from gridgov_grid_registry.grids.generator import generated

EVAL_FILE = resources.files("gridgov_grid_registry.places") / "data" / "eval_addresses.tsv"


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    """The evaluation rows, parsed as the evaluation bench reads them."""
    with EVAL_FILE.open(encoding="utf-8", newline="") as f:
        header = f.readline().rstrip("\n")
        assert header == "address\ttown_code\tvillage_code"
        f.seek(0)
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.fixture(scope="module")
def city() -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    """Towns (code → name), villages (code → parent town code) and, per village code, how many towns have a
    village of that name."""
    areas = generated("dongguan").grid_set.areas
    towns = {a.code: a.name for a in areas if a.level == "town"}
    villages = {a.code: a.parent_code for a in areas if a.level == "village"}
    per_name = Counter(a.name for a in areas if a.level == "village")
    towns_with_name = {a.code: per_name[a.name] for a in areas if a.level == "village"}
    return towns, villages, towns_with_name


def test_eval_file_has_300_distinct_addresses(rows: list[dict[str, str]]) -> None:
    assert len(rows) == 300
    addresses = [r["address"] for r in rows]
    assert len(set(addresses)) == 300
    for a in addresses:
        assert a and a == a.strip() and len(a) <= 500
        assert not any(ord(ch) < 32 for ch in a)


def test_eval_codes_exist_in_demo_city_and_village_is_under_its_town(rows, city) -> None:
    towns, villages, _ = city
    for r in rows:
        town, village = r["town_code"], r["village_code"]
        if village:
            assert village in villages, r
            assert villages[village] == town, f"{r}: village not under its town"
        if town:
            assert town in towns, r


def test_eval_covers_village_town_only_and_nothing(rows, city) -> None:
    towns, _, _ = city
    with_village = [r for r in rows if r["village_code"]]
    town_only = [r for r in rows if r["town_code"] and not r["village_code"]]
    nothing = [r for r in rows if not r["town_code"] and not r["village_code"]]
    assert len(with_village) >= 200
    assert len(town_only) >= 30
    assert 10 <= len(nothing) <= 20
    # Every town of the demo city is asked for at least once, at village or town level.
    assert {r["town_code"] for r in rows if r["town_code"]} == set(towns)


def test_eval_names_villages_that_exist_under_two_towns_with_their_town(rows, city) -> None:
    _, _, towns_with_name = city
    shared = [r for r in rows if r["village_code"] and towns_with_name[r["village_code"]] > 1]
    assert len(shared) >= 10
    # Both towns of such a name appear, so a resolver that ignores the town gets half of them wrong.
    assert len({r["town_code"] for r in shared}) >= 3
