"""The history plan (cli/src/gridgov_cli/history/plan.py), pure: the city's past has the volumes, rhythms, seasons,
planted patterns and outcomes it promises, every case's steps are a path through dispatch's lifecycle table, and
the same seed gives the same past."""

import csv
import io
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from gridgov_cli.history.plan import (
    CHANNELS,
    CITY_TZ,
    RAIN_TOWNS,
    WATERLOGGING,
    CategoryInfo,
    GridInfo,
    draw_history,
    plan_history,
    stable_id,
)
from gridgov_common.categories import seed_csv
from gridgov_dispatch.tickets import lifecycle

END = date(2026, 11, 30)
DAYS, PER_DAY = 42, 300
TOWNS = ("441900003", "441900006", "441900101", "441900110", *RAIN_TOWNS[:4])


def _grids() -> list[GridInfo]:
    """A lattice of 8 towns × 5 villages × 10 grids, 200 m apart."""
    out = []
    for t, town in enumerate(TOWNS):
        for v in range(5):
            for g in range(10):
                x, y = 113.6 + t * 0.05 + g * 0.002, 22.8 + v * 0.01
                out.append(GridInfo(f"{town}{v + 1:03d}{g + 1:03d}", f"{town}{v + 1:03d}", town,
                                    ((x, y), (x + 0.0005, y + 0.0005)), f"g{g}", f"村{v}", f"镇{t}"))
    return out


CATEGORIES = [CategoryInfo(r["code"], r["name_zh"]) for r in csv.DictReader(io.StringIO(seed_csv()))
              if r["level"] == "middle"]


@pytest.fixture(scope="module")
def plan():
    return plan_history(_grids(), CATEGORIES, end=END, days=DAYS, per_day=PER_DAY, seed=15)


def _local_day(at: datetime) -> date:
    return at.astimezone(CITY_TZ).date()


def test_plan_is_the_same_for_a_seed_and_differs_for_another(plan):
    again = plan_history(_grids(), CATEGORIES, end=END, days=DAYS, per_day=PER_DAY, seed=15)
    other = plan_history(_grids(), CATEGORIES, end=END, days=7, per_day=PER_DAY, seed=16)
    assert [(c.report_id, c.submitted_at, c.category_code, c.grid_code, c.steps) for c in again.cases] == \
        [(c.report_id, c.submitted_at, c.category_code, c.grid_code, c.steps) for c in plan.cases]
    assert [c.grid_code for c in other.cases[:200]] != [c.grid_code for c in plan.cases[:200]]
    first = plan.cases[0]
    assert first.report_id == stable_id(15, "report", first.index, int(first.submitted_at.timestamp()))
    assert len({c.report_id for c in plan.cases}) == len(plan.cases)


def test_day_of_a_case_is_its_local_day(plan):
    draws = draw_history(_grids(), CATEGORIES, end=END, days=DAYS, per_day=PER_DAY, seed=15)
    for i in (0, 1, draws.n // 2, draws.n - 1):
        assert draws.day_of(i) == _local_day(plan.cases[i].submitted_at)


def test_ids_are_uuid7_in_the_order_the_cases_happened(plan):
    # the history inserts cases in time order: time-ordered keys grow each index at its end
    ids = [c.report_id for c in plan.cases] + [c.ticket_id for c in plan.cases if c.ticket_id]
    assert len(set(ids)) == len(ids)
    for case in plan.cases[:500]:
        parsed = uuid.UUID(case.report_id)
        assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, case.report_id)
        assert parsed.int >> 80 == int(case.submitted_at.timestamp()) * 1000  # its 48-bit time: when it came in
    # sorted by id is sorted by time (cases of the same second in any order among themselves)
    for kind in ("report_id", "ticket_id"):
        keyed = [(getattr(c, kind), c.submitted_at) for c in plan.cases if getattr(c, kind)]
        assert [at for _, at in sorted(keyed)] == sorted(at for _, at in keyed)


def test_plan_has_the_volume_weekly_and_daily_rhythm_and_every_channel(plan):
    per_day = Counter(_local_day(c.submitted_at) for c in plan.cases)
    assert set(per_day) <= {END - timedelta(days=d) for d in range(DAYS)}
    planted = sum(p.cases for p in plan.planted if p.kind in ("hot_spot", "chronic"))
    assert 0.9 * DAYS * PER_DAY < len(plan.cases) - planted < 1.1 * DAYS * PER_DAY
    weekday = [n for d, n in per_day.items() if d.weekday() < 5]
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    assert sum(weekend) / len(weekend) < 0.85 * sum(weekday) / len(weekday)
    channels = Counter(c.channel for c in plan.cases)
    assert set(channels) == set(CHANNELS) and channels["patrol"] > channels["hotline"] > channels["open311"]
    night_patrols = sum(1 for c in plan.cases if c.channel == "patrol" and c.submitted_at.astimezone(CITY_TZ).hour < 5)
    assert night_patrols == 0
    assert all(c.submitted_at <= datetime.combine(END + timedelta(days=1), datetime.min.time(), CITY_TZ)
               for c in plan.cases)


def test_rain_weeks_bring_waterlogging_to_the_river_towns(plan):
    rain_days = {plan.start + timedelta(days=d) for p in plan.planted if p.kind == "rain_week"
                 for d in range((p.first_day - plan.start).days, (p.last_day - plan.start).days + 1)}
    assert rain_days
    wet = [c for c in plan.cases if _local_day(c.submitted_at) in rain_days]
    dry = [c for c in plan.cases if _local_day(c.submitted_at) not in rain_days]
    share = lambda cs: sum(c.category_code in WATERLOGGING for c in cs) / len(cs)  # noqa: E731
    assert share(wet) > 8 * share(dry)
    flooded = [c for c in wet if c.category_code in WATERLOGGING]
    assert sum(c.town_code in RAIN_TOWNS for c in flooded) / len(flooded) > 0.6


def test_planted_hot_spots_and_chronic_problems_are_where_the_plan_says(plan):
    hot = [p for p in plan.planted if p.kind == "hot_spot"]
    assert {p.pattern for p in hot} == {"persistent", "new", "intensifying", "diminishing"}
    for p in hot:
        window = [c for c in plan.cases if p.first_day <= _local_day(c.submitted_at) <= p.last_day
                  and c.category_code.startswith(p.category_prefix)]
        per_grid = Counter(c.grid_code for c in window)
        inside = sum(per_grid[g] for g in p.grid_codes) / len(p.grid_codes)
        outside = sorted(per_grid[g.code] for g in _grids() if g.code not in p.grid_codes)
        assert inside > 5 * max(outside[len(outside) // 2], 1), p
    new = next(p for p in hot if p.pattern == "new")
    assert new.first_day == END - timedelta(days=20)
    chronic = [p for p in plan.planted if p.kind == "chronic"]
    assert len(chronic) >= 6
    by_report = {c.report_id: c for c in plan.cases}
    for p in chronic:
        (grid,) = p.grid_codes
        cases = [by_report[r] for r in p.report_ids]
        assert len(cases) == p.cases >= 4
        assert {(c.grid_code, c.category_code) for c in cases} == {(grid, p.category_prefix)}
        days = [_local_day(c.submitted_at) for c in cases]
        assert days[0] == p.first_day and days[-1] == p.last_day
        assert all((b - a).days >= 6 for a, b in zip(days, days[1:], strict=False))  # after the last one closed
        assert all(c.outcome == "in_time" and c.steps[-1].action in ("close", "rate") for c in cases)


def test_every_case_is_a_path_through_dispatchs_lifecycle_with_the_outcomes_mixed(plan):
    outcomes = Counter(c.outcome for c in plan.cases)
    for outcome in ("in_time", "late", "returned", "reworked", "extended", "supervised", "reopened", "on_spot",
                    "answered"):
        assert outcomes[outcome] > 0, outcome
    assert outcomes["in_time"] / len(plan.cases) > 0.6
    for case in plan.cases:
        if case.outcome == "answered":
            assert case.ticket_id is None and case.steps == () and case.channel == "hotline"
            continue
        state = "handled" if case.handled_on_spot else "registered"
        for step in case.steps:
            if step.action == "rate":
                assert state == "closed" and case.rating is not None
                continue
            state = lifecycle.transition_for(state, step.action).target.value
        assert state == "closed", (case.outcome, case.steps)
        if case.outcome == "reopened":
            assert case.rating is not None and (case.rating.satisfaction <= 2 or not case.rating.solved)
        elif case.rating is not None:
            assert case.rating.solved and case.rating.satisfaction >= 3
    now = datetime.combine(END + timedelta(days=1), datetime.min.time(), CITY_TZ).astimezone(UTC)
    recent = [c for c in plan.cases if now - c.submitted_at < timedelta(days=2) and c.outcome == "in_time"]
    assert recent and all(c.rating is None for c in recent)
