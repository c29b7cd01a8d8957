"""The demo city's past, planned: which reports came in when, where and by which channel, and how each case went.

Pure (no I/O, no clock): grids, categories, a seed and an end date in, a ``HistoryPlan`` out, the same on every
run. The services' own loaders turn it into rows (``gridgov_dispatch.tickets.backfill``,
``gridgov_event_intake.reports.backfill``); the plan only says what happened, in the services' vocabulary:

- volume: about ``per_day`` reports a day (Dongguan's grid platform takes thousands), fewer at weekends, with a
  daily rhythm per channel (patrols in working hours, the 12345 hotline into the evening, citizens' 随手拍 peaking
  after work);
- channels: patrol 巡查, hotline 12345, citizen 随手拍, open311 (client systems);
- categories: the catalog's middle classes weighted like a city's mix (市容环境 and 街面秩序 first), each channel
  its own skew (patrols see litter and parking, the hotline wage arrears and disputes);
- seasons: rain weeks (暴雨) when waterlogging (道路积水, 内涝点), road collapse and blocked drains surge in the
  low-lying river towns;
- planted patterns, returned so tests and benchmarks can check the analysis finds them: hot spots (a grid and its
  neighbours, one category class, persistent / new / intensifying / diminishing) and chronic problems (每月一题
  candidates: the same category in the same grid again and again, each case registered after the last closed);
- outcomes, as steps of dispatch's lifecycle: closed in time, late (the SLA clock warns and escalates), returned
  退单 and re-dispatched, reworked 返工, extended 延期, supervised 督办, rated 回访 and reopened after a bad rating,
  handled on the spot 自行处置, hotline questions answered at once; the cases of the last days are still open.

A step's ``value`` is the share of the running stage's time left that passes before it (below 1: in time; above:
late), or hours when no stage clock runs (awaiting triage, a return's ruling, an extension, verification done,
a closed case awaiting its rating).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from gridgov_common.ids import uuid7_text

CITY_TZ = ZoneInfo("Asia/Shanghai")
CHANNELS: tuple[str, ...] = ("patrol", "hotline", "citizen", "open311")
CHANNEL_SHARE = (0.55, 0.25, 0.15, 0.05)
WEEKDAY_FACTOR = (1.06, 1.04, 1.03, 1.02, 1.0, 0.8, 0.72)  # Monday … Sunday
# Local hour weights per channel (0 … 23).
HOURS: dict[str, tuple[float, ...]] = {
    "patrol": (0, 0, 0, 0, 0, 0, 0.1, 0.4, 1.0, 1.0, 1.0, 0.8, 0.3, 0.3, 0.9, 1.0, 1.0, 0.9, 0.4, 0.2, 0.1, 0.05,
               0, 0),
    "hotline": (0.05, 0.03, 0.02, 0.02, 0.02, 0.05, 0.1, 0.3, 0.8, 1.0, 1.0, 0.9, 0.6, 0.6, 0.9, 1.0, 0.9, 0.8,
                0.6, 0.6, 0.5, 0.4, 0.25, 0.1),
    "citizen": (0.05, 0.02, 0.01, 0.01, 0.01, 0.03, 0.1, 0.4, 0.6, 0.6, 0.6, 0.6, 0.7, 0.6, 0.5, 0.5, 0.6, 0.8,
                1.0, 1.0, 0.9, 0.7, 0.4, 0.15),
    "open311": (0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.1, 0.4, 0.9, 1.0, 1.0, 0.9, 0.6, 0.7, 1.0, 1.0, 0.9, 0.7,
                0.4, 0.3, 0.2, 0.1, 0.05, 0.02),
}
# A city's mix of major classes (share of reports), and each channel's skew.
CLASS_WEIGHT = {"01": 0.20, "02": 0.06, "03": 0.06, "04": 0.012, "05": 0.22, "11": 0.07, "12": 0.05, "13": 0.04,
                "14": 0.03, "21": 0.04, "22": 0.06, "23": 0.03, "24": 0.04, "25": 0.03, "26": 0.03, "27": 0.02,
                "28": 0.02, "29": 0.03}
CHANNEL_SKEW: dict[str, dict[str, float]] = {
    "patrol": {"01": 1.4, "02": 1.5, "05": 1.4, "11": 1.2, "22": 1.3, "27": 0.1, "25": 0.5, "26": 0.7},
    "hotline": {"01": 0.6, "02": 0.3, "05": 0.6, "24": 2.0, "25": 2.5, "26": 2.0, "27": 4.0, "23": 2.0, "03": 1.8},
    "citizen": {"01": 1.2, "05": 1.1, "12": 1.6, "29": 1.6, "14": 1.4, "13": 1.3, "27": 0.3},
    "open311": {"11": 1.8, "12": 1.8, "13": 1.5, "29": 1.5, "27": 0.2, "26": 0.3},
}
WATERLOGGING = ("04004", "28001")  # 道路积水, 内涝点: the season's item
RAIN_ALSO = ("04001", "28002", "11003")  # 路面塌陷, 排水管道堵塞, 雨水井盖: rain's companions
RAIN_TOWNS = ("441900123", "441900126", "441900125", "441900127", "441900128", "441900124", "441900121",
              "441900005")  # 沙田, 麻涌, 洪梅, 望牛墩, 中堂, 道滘, 虎门, 万江: the river towns of the west
ROADS = ("人民路", "东城大道", "莞太路", "环城路", "新城路", "建设路", "振兴路", "工业大道", "文化路", "富民路")
# Outcome labels (what happened to a case), with their shares among closed cases.
OUTCOMES = (("in_time", 0.765), ("late", 0.09), ("returned", 0.05), ("reworked", 0.04), ("extended", 0.02),
            ("supervised", 0.01), ("reopened", 0.025))
ON_SPOT_SHARE = 0.18  # patrol reports fixed by the grid worker on the spot (自行处置)
ANSWERED_SHARE = 0.06  # hotline questions answered at once (直接答复), never a ticket
RATED_SHARE = 0.35  # closed cases whose reporter answered the follow-up (回访)
BACKLOG_DAYS = 2.5  # cases registered this close to the end still have steps to come: the open backlog


@dataclass(frozen=True)
class GridInfo:
    """A grid of the city as the plan needs it: codes, names, a few points inside it (WGS84) and its grid workers'
    ids on the roster (who patrol it and check its cases; none: ``gw-<grid code>`` stands in)."""

    code: str
    village_code: str
    town_code: str
    points: tuple[tuple[float, float], ...]
    name: str = ""
    village_name: str = ""
    town_name: str = ""
    workers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CategoryInfo:
    """A reportable category (the catalog's middle class): code and Chinese name."""

    code: str
    name: str


class Step(NamedTuple):
    """One lifecycle action after registration (dispatch's ``Action`` values, plus ``rate``: the follow-up)."""

    action: str
    value: float  # share of the stage's time left (clock running), else hours


class Rating(NamedTuple):
    """A reporter's answer to the follow-up (回访)."""

    satisfaction: int
    solved: bool


@dataclass(slots=True)
class PlannedCase:
    """One report and, unless closed at intake, the ticket it became and its steps."""

    index: int
    report_id: str
    ticket_id: str | None
    submitted_at: datetime  # UTC
    channel: str
    category_code: str
    grid_code: str
    village_code: str
    town_code: str
    lon: float
    lat: float
    description: str
    address: str | None
    reporter_id: str
    reporter_role: str
    outcome: str
    steps: tuple[Step, ...] = ()
    rating: Rating | None = None
    handled_on_spot: bool = False
    answer: str | None = None
    external_id: str | None = None
    checker_id: str = ""  # the grid worker who checks (核查) and closes it (its reporter, on patrol)


@dataclass(frozen=True)
class Planted:
    """A pattern the plan put in the city, for the analysis to find."""

    kind: str  # hot_spot | chronic | rain_week
    pattern: str  # hot spots: persistent | new | intensifying | diminishing; chronic: recurring; rain: rain
    category_prefix: str  # a class ("05") or a middle code ("28001")
    grid_codes: tuple[str, ...]
    first_day: date
    last_day: date
    cases: int = 0
    report_ids: tuple[str, ...] = ()  # chronic problems: the planted reports, in time order


@dataclass
class HistoryPlan:
    """The whole past: its cases in time order and the patterns planted in it."""

    seed: int
    start: date  # first local day
    end: date  # last local day (inclusive)
    per_day: int
    cases: list[PlannedCase]
    planted: list[Planted] = field(default_factory=list)

    @property
    def days(self) -> int:
        """How many local days the plan covers."""
        return (self.end - self.start).days + 1


def stable_id(seed: int, kind: str, index: int, at_s: int) -> str:
    """A deterministic, time-ordered id of the ``index``-th thing of a kind in the plan of ``seed``, which happened
    at ``at_s`` (Unix seconds): a UUIDv7 (RFC 9562) whose 48-bit time is ``at_s`` in milliseconds and whose other
    74 bits come from the SHA-1 of the name (as uuid5 takes them), so a re-run makes the very same id.

    Time-ordered because the ids are primary keys (a ticket's, its audit rows' ``(ticket_id, seq)``, a report's,
    analytics' facts): the history inserts cases in time order, so each index grows at its end instead of at
    random pages all over it (the audit rows' key index is the largest of the load). The live services' ids are
    UUIDv7 too (``gridgov_common.ids``), random where these are hashed.
    """
    # The plan's past is after 1970: the time is never negative.
    return uuid7_text(at_s * 1000, hashlib.sha1(_NS + f"gridgov-history/{seed}/{kind}/{index}".encode()).digest()[6:16])


_NS = uuid.NAMESPACE_URL.bytes


def _category_weights(categories: Sequence[CategoryInfo], channel: str) -> np.ndarray:
    skew = CHANNEL_SKEW.get(channel, {})
    per_class: dict[str, list[int]] = {}
    for i, c in enumerate(categories):
        per_class.setdefault(c.code[:2], []).append(i)
    w = np.zeros(len(categories))
    for prefix, idx in per_class.items():
        share = CLASS_WEIGHT.get(prefix, 0.01) * skew.get(prefix, 1.0)
        parts = np.array([0.3 if categories[i].code.endswith("099") else 1.0 for i in idx])
        w[idx] = share * parts / parts.sum()
    return w / w.sum()


def _near(grids: Sequence[GridInfo], centre: int, radius_deg: float) -> list[int]:
    """The grids whose first point lies within ``radius_deg`` of the centre grid's (the centre first)."""
    cx, cy = grids[centre].points[0]
    scale = math.cos(math.radians(cy))
    out = [centre]
    for i, g in enumerate(grids):
        if i != centre:
            x, y = g.points[0]
            if math.hypot((x - cx) * scale, y - cy) <= radius_deg:
                out.append(i)
    return out


_TEXTS = ("{place}发现{name}，请尽快处理", "{name}：{place}一带，影响通行和周边居民", "群众反映{place}{name}问题",
          "{place}附近{name}，现场已拍照")


def _description(cat: CategoryInfo, grid: GridInfo, variant: int) -> str:
    return _TEXTS[variant % 4].format(place=grid.village_name or grid.name or grid.code, name=cat.name)


def _outcome_steps(u: Sequence[float], outcome: str) -> list[Step]:
    """The steps of a dispatched case from dispatch to closure, for an outcome label (``u``: 8 uniforms)."""
    in_time = lambda k: 0.15 + 0.6 * u[k]  # noqa: E731 - a share of the time left, well inside it
    claim, handle, verify = Step("claim", in_time(0)), Step("handle", in_time(1)), Step("verify", in_time(2))
    close = Step("close", 0.1 + 2.0 * u[3])
    if outcome == "late":
        return [claim, Step("handle", 1.15 + 2.5 * u[4]), verify, close]
    if outcome == "returned":
        return [Step("return", 0.3 * u[4] + 0.05), Step("rule_return", 1.0 + 6.0 * u[5]), claim, handle, verify,
                close]
    if outcome == "reworked":
        return [claim, handle, Step("rework", 0.3 + 0.5 * u[4]), Step("handle", in_time(5)), verify, close]
    if outcome == "extended":
        return [claim, Step("request_extension", 0.5 + 0.3 * u[4]), Step("approve_extension", 1.0 + 3.0 * u[5]),
                Step("handle", in_time(6)), verify, close]
    if outcome == "supervised":
        return [claim, Step("supervise", 0.7 + 0.2 * u[4]), Step("handle", 0.5 + 0.3 * u[5]), verify, close]
    return [claim, handle, verify, close]


def _plan_case_steps(u8: Sequence[float], u: Sequence[float], outcome: str) -> tuple[list[Step], Rating | None]:
    steps = _outcome_steps(u8, outcome)
    if outcome == "reopened":  # a bad rating (回访不满意) sends it back to the department
        rating = Rating(int(1 + 2 * u[0]), bool(u[1] < 0.3))
        steps += [Step("rate", 4.0 + 44.0 * u[2]), Step("reopen", 0.0), Step("handle", 0.3 + 0.5 * u[3]),
                  Step("verify", 0.4), Step("close", 0.5)]
        return steps, rating
    if u[0] < RATED_SHARE:
        satisfaction = 5 if u[1] < 0.62 else 4 if u[1] < 0.9 else 3
        return [*steps, Step("rate", 4.0 + 44.0 * u[2])], Rating(satisfaction, True)
    return steps, None


def plan_history(grids: Sequence[GridInfo], categories: Sequence[CategoryInfo], *, end: date, days: int = 90,
                 per_day: int = 2400, seed: int = 15, now: datetime | None = None) -> HistoryPlan:
    """The city's past over ``days`` local days up to ``end`` (inclusive), deterministic from ``seed``.

    ``now`` (UTC, default: the end of ``end``) cuts the cases of the last days short: their remaining steps have
    not happened yet, so they stay open (the departments' queues). Steps are not cut here but by the loader,
    which knows the deadlines; ``now`` only marks cases registered within ``BACKLOG_DAYS`` for less rating.
    """
    draws = draw_history(grids, categories, end=end, days=days, per_day=per_day, seed=seed, now=now)
    return HistoryPlan(seed=seed, start=draws.start, end=end, per_day=per_day, cases=draws.cases(0, draws.n),
                       planted=draws.planted)


def draw_history(grids: Sequence[GridInfo], categories: Sequence[CategoryInfo], *, end: date, days: int = 90,
                 per_day: int = 2400, seed: int = 15, now: datetime | None = None) -> PlanDraws:
    """Every random draw of :func:`plan_history` (the whole random stream, in the same order), without making the
    cases: :meth:`PlanDraws.cases` makes any run of them, so workers can each make the cases they load."""
    if not grids or not categories:
        raise ValueError("a history needs grids and categories")
    rng = np.random.default_rng(seed)
    start = end - timedelta(days=days - 1)
    n_grid = len(grids)
    by_code = {c.code: i for i, c in enumerate(categories)}
    # Grid weights: street offices (urban, codes 441900001-099) are denser; a lognormal spread gives busy grids.
    urban = np.array([int(g.town_code[-3:]) < 100 for g in grids])
    grid_w = np.where(urban, 2.0, 1.0) * rng.lognormal(0.0, 0.5, n_grid)
    grid_w /= grid_w.sum()
    cat_w = {ch: _category_weights(categories, ch) for ch in CHANNELS}
    hour_p = {ch: np.array(HOURS[ch]) / sum(HOURS[ch]) for ch in CHANNELS}
    town_rain = np.array([g.town_code in RAIN_TOWNS for g in grids])

    # Rain weeks: two or three spells of 4-7 days, not in the first week.
    rain_days: set[int] = set()
    planted: list[Planted] = []
    for _ in range(3 if days >= 60 else 1):
        first = int(rng.integers(min(7, days - 1), max(days - 7, 8)))
        length = int(rng.integers(4, 8))
        span = [d for d in range(first, min(first + length, days))]
        rain_days.update(span)
        if span:
            planted.append(Planted("rain_week", "rain", WATERLOGGING[0], tuple(g.code for g, r in
                                                                                 zip(grids, town_rain, strict=True)
                                                                                 if r),
                                   start + timedelta(days=span[0]), start + timedelta(days=span[-1])))

    # Hot spots: a centre grid and its neighbours (~1.5 km), one class, four temporal patterns.
    hot: list[tuple[Planted, np.ndarray, list[int], list[int]]] = []
    patterns = ("persistent", "new", "intensifying", "diminishing", "persistent", "intensifying")
    classes = ("05", "01", "22", "01", "11", "24")
    for pattern, prefix in zip(patterns, classes, strict=True):
        centre = int(rng.integers(n_grid))
        members = _near(grids, centre, 0.012)[:9]
        cats = [i for i, c in enumerate(categories) if c.code.startswith(prefix) and not c.code.endswith("099")]
        per_grid = np.zeros(days)
        for d in range(days):
            x = d / max(days - 1, 1)
            per_grid[d] = {"persistent": 3.0, "new": 6.0 if d >= days - 21 else 0.0,
                           "intensifying": 0.5 + 7.0 * x * x, "diminishing": 6.0 * (1 - x) ** 2}[pattern]
        first = start + timedelta(days=days - 21) if pattern == "new" else start
        planted.append(Planted("hot_spot", pattern, prefix, tuple(grids[i].code for i in members), first, end))
        hot.append((planted[-1], per_grid, members, cats))

    # Chronic problems (每月一题): a case every 6-9 days in one grid and category, each after the last closed.
    chronic: list[tuple[int, int, list[int]]] = []  # (grid, category, days)
    chronic_planted: list[int] = []  # their index in ``planted``
    chronic_codes = ("05003", "01002", "24003", "28002", "05005", "13002", "03001", "22002")
    for code in chronic_codes:
        if code not in by_code:
            continue
        g = int(rng.integers(n_grid))
        d, when = int(rng.integers(0, 6)), []
        while d < days - 3:
            when.append(d)
            d += int(rng.integers(6, 10))
        if not when:  # a history too short for this chronic problem
            continue
        chronic.append((g, by_code[code], when))
        chronic_planted.append(len(planted))
        planted.append(Planted("chronic", "recurring", code, (grids[g].code,), start + timedelta(days=when[0]),
                               start + timedelta(days=when[-1]), len(when)))

    # Draw each day's reports: (day, channel, category, grid, planted-tag).
    rows: list[tuple[int, int, int, int]] = []  # day, channel index, category index, grid index
    chronic_rows: dict[int, int] = {}  # row → which chronic problem
    hot_counts = [0] * len(hot)
    for d in range(days):
        day = start + timedelta(days=d)
        mean = per_day * WEEKDAY_FACTOR[day.weekday()] * rng.lognormal(0.0, 0.06)
        n = int(rng.poisson(mean))
        chans = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARE)
        gsel = rng.choice(n_grid, size=n, p=grid_w)
        csel = np.empty(n, dtype=np.int64)
        for ci, ch in enumerate(CHANNELS):
            mask = chans == ci
            w = cat_w[ch]
            if d in rain_days:
                w = w.copy()
                for code in WATERLOGGING + RAIN_ALSO:
                    if code in by_code:
                        w[by_code[code]] *= 25.0 if code in WATERLOGGING else 4.0
                w /= w.sum()
            csel[mask] = rng.choice(len(categories), size=int(mask.sum()), p=w)
        if d in rain_days:  # the flooding concentrates where the river towns are low-lying
            wl = np.isin(csel, [by_code[c] for c in WATERLOGGING if c in by_code])
            move = wl & (rng.random(n) < 0.6)
            rain_idx = np.flatnonzero(town_rain)
            if len(rain_idx):
                gsel[move] = rng.choice(rain_idx, size=int(move.sum()))
        rows.extend(zip([d] * n, chans.tolist(), csel.tolist(), gsel.tolist(), strict=True))
        for k, (_p, per_grid, members, cats) in enumerate(hot):
            for gi in members:
                extra = int(rng.poisson(per_grid[d]))
                hot_counts[k] += extra
                for _ in range(extra):
                    rows.append((d, int(rng.choice(3, p=(0.5, 0.3, 0.2))), int(rng.choice(cats)), gi))
        for k, (g, c, when) in enumerate(chronic):
            if d in when:
                chronic_rows[len(rows)] = k
                rows.append((d, 1, c, g))

    for k, (p, *_rest) in enumerate(hot):
        planted[planted.index(p)] = replace(p, cases=hot_counts[k])

    # Times inside each day by channel rhythm; then the cases in time order.
    n_all = len(rows)
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    minute = np.empty(n_all, dtype=np.int64)
    for ci, ch in enumerate(CHANNELS):
        mask = arr[:, 1] == ci
        minute[mask] = rng.choice(24, size=int(mask.sum()), p=hour_p[ch]) * 60 + rng.integers(0, 60, int(mask.sum()))
    chronic_of = np.full(n_all, -1, dtype=np.int64)  # which chronic problem a row is (-1: none)
    chronic_of[list(chronic_rows)] = list(chronic_rows.values())
    chronic_mask = chronic_of >= 0
    minute[chronic_mask] = 9 * 60 + rng.integers(0, 120, int(chronic_mask.sum()))  # office hours: handled fast
    seconds = rng.integers(0, 60, n_all)
    order = np.lexsort((seconds, minute, arr[:, 0]))
    u_all = rng.random((n_all, 16))
    variants = rng.integers(0, 4, n_all)
    out_p = np.array([p for _, p in OUTCOMES])
    out_sel = rng.choice(len(OUTCOMES), size=n_all, p=out_p / out_p.sum())
    now = now or datetime.combine(end + timedelta(days=1), time(), CITY_TZ).astimezone(UTC)
    # The end of the random stream: the rest only arranges what was drawn. Rows in time order, those after ``now``
    # left out (they have not happened yet).
    day_start = [datetime.combine(start + timedelta(days=d), time(), CITY_TZ) for d in range(days)]
    day_epoch = np.array([int(s.timestamp()) for s in day_start], dtype=np.int64)
    arr, minute, seconds, chronic_of = arr[order], minute[order], seconds[order], chronic_of[order]
    at_epoch = day_epoch[arr[:, 0]] + minute * 60 + seconds
    positions = np.flatnonzero(at_epoch <= now.timestamp())
    draws = PlanDraws(seed=seed, start=start, end=end, per_day=per_day, now=now, grids=list(grids),
                      categories=list(categories), day_start=day_start, positions=positions, rows=arr,
                      minute=minute, seconds=seconds, chronic_of=chronic_of, u=u_all[order],
                      variants=variants[order], outcome=out_sel[order], planted=planted)
    # The planted patterns' counts, as the cases will have them.
    kept_chronic = positions[chronic_of[positions] >= 0]
    for k, at_index in enumerate(chronic_planted):
        ids = tuple(stable_id(seed, "report", int(i), int(at_epoch[i]))
                    for i in kept_chronic[chronic_of[kept_chronic] == k])
        planted[at_index] = replace(planted[at_index], cases=len(ids), report_ids=ids)
    rain_codes = [by_code[c] for c in WATERLOGGING if c in by_code]
    kept = arr[positions]
    rain_count = np.bincount(kept[np.isin(kept[:, 2], rain_codes), 0], minlength=days)
    for k, p in enumerate(planted):
        if p.kind == "rain_week":
            span = range((p.first_day - start).days, (p.last_day - start).days + 1)
            planted[k] = replace(p, cases=int(sum(rain_count[d] for d in span)))
    return draws


@dataclass
class PlanDraws:
    """What :func:`draw_history` drew, per case in time order: enough to make any run of the plan's cases.

    ``positions`` are the cases' indexes in time order (those up to ``now``); ``cases(lo, hi)`` makes the cases
    ``lo`` … ``hi - 1`` of the plan, the very objects :func:`plan_history` lists there.
    """

    seed: int
    start: date
    end: date
    per_day: int
    now: datetime
    grids: list[GridInfo]
    categories: list[CategoryInfo]
    day_start: list[datetime]
    positions: np.ndarray
    rows: np.ndarray  # day, channel index, category index, grid index
    minute: np.ndarray
    seconds: np.ndarray
    chronic_of: np.ndarray
    u: np.ndarray
    variants: np.ndarray
    outcome: np.ndarray
    planted: list[Planted]

    @property
    def n(self) -> int:
        """How many cases the plan has."""
        return len(self.positions)

    def day_of(self, index: int) -> date:
        """The local day of the plan's case ``index``."""
        return self.day_start[int(self.rows[self.positions[index], 0])].date()

    def cases(self, lo: int, hi: int) -> list[PlannedCase]:
        """The plan's cases ``lo`` … ``hi - 1`` (in time order)."""
        pos = self.positions[lo:hi]
        seed, now, grids, categories, day_start = self.seed, self.now, self.grids, self.categories, self.day_start
        out_names = [o for o, _ in OUTCOMES]
        cases: list[PlannedCase] = []
        for index, (d, ci, cat_i, gi), minute, second, is_chronic, u, variant, out in zip(
                pos.tolist(), self.rows[pos].tolist(), self.minute[pos].tolist(), self.seconds[pos].tolist(),
                (self.chronic_of[pos] >= 0).tolist(), self.u[pos].tolist(), self.variants[pos].tolist(),
                self.outcome[pos].tolist(), strict=True):
            channel, cat, grid = CHANNELS[ci], categories[cat_i], grids[gi]
            at = (day_start[d] + timedelta(minutes=minute, seconds=second)).astimezone(UTC)
            at_s = int(at.timestamp())
            lon, lat = grid.points[int(u[0] * len(grid.points)) % len(grid.points)]
            on_spot = channel == "patrol" and u[1] < ON_SPOT_SHARE and not is_chronic
            answered = channel == "hotline" and u[1] < ANSWERED_SHARE and not is_chronic
            outcome = "in_time" if is_chronic else out_names[out]
            if answered:
                outcome = "answered"
            elif on_spot:
                outcome = "on_spot"
            recent = (now - at).total_seconds() < BACKLOG_DAYS * 86400
            if answered:
                steps, rating = [], None
            elif on_spot:
                steps, rating = [Step("verify", 0.2 + 0.6 * u[2]), Step("close", 0.2)], None
            else:
                steps, rating = _plan_case_steps(u[4:12], u[12:16], outcome)
                steps.insert(0, Step("dispatch", 0.0))
                if recent and rating is not None and outcome != "reopened":
                    steps, rating = steps[:-1], None
            address = None if channel == "patrol" else (
                f"{grid.town_name}{grid.village_name}{ROADS[int(u[3] * len(ROADS)) % len(ROADS)]}"
                f"{1 + int(u[2] * 300)}号")
            # One of the grid's workers checks the case (and found it, on patrol), the same one for a case from report
            # to close; the grid's by turns (by the case's index), so each worker of a grid has a share.
            checker = grid.workers[index % len(grid.workers)] if grid.workers else f"gw-{grid.code}"
            if channel == "patrol":
                reporter, role, ext = checker, "grid_worker", None
            elif channel == "hotline":
                ext = f"GD{at.astimezone(CITY_TZ):%Y%m%d}{index % 100000:05d}"
                reporter, role = f"hotline:{ext}", "command_centre"
            elif channel == "citizen":
                reporter, role, ext = f"citizen-{int(u[3] * 40000):05d}", "citizen", None
            else:
                reporter, role, ext = f"open311:demo-app:user{int(u[3] * 9000):04d}", "citizen", None
            cases.append(PlannedCase(
                index=index, report_id=stable_id(seed, "report", index, at_s),
                ticket_id=None if answered else stable_id(seed, "ticket", index, at_s),
                submitted_at=at, channel=channel, category_code=cat.code, grid_code=grid.code,
                village_code=grid.village_code, town_code=grid.town_code, lon=lon, lat=lat,
                description=_description(cat, grid, variant), address=address,
                reporter_id=reporter, reporter_role=role, outcome=outcome, steps=tuple(steps), rating=rating,
                handled_on_spot=on_spot, answer="已直接答复来电人（政策咨询）" if answered else None, external_id=ext,
                checker_id=checker))
        return cases
