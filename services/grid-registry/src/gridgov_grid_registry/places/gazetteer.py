"""The gazetteer (地名库): address text → the finest town, village/community or grid it names. Pure (no I/O).

Built from the grid set in effect — towns (镇/街道, also without the suffix: 南城街道 → 南城, 虎门镇 → 虎门),
villages and communities (村/社区; the stem without its suffix, and the other suffix, only where no other
village of the same town shares the stem), grids (第N网格, only right after a village) — plus the roads and
landmarks a city imports, each located once to its grid, village and town.

Resolving scans the text once for every known name (a dictionary lookup per position and name length: a few
microseconds for a typical address), keeps the longest names where they overlap, then picks the reading that
is consistent across levels:

- a village counts only inside the town the address names (a village named under a town it does not belong
  to gives no village, and the town at a low confidence);
- a village stem shared by villages of several towns, with no town named, gives no answer (unlocated at a low
  confidence) unless a landmark settles which one;
- a landmark or road agrees with the town and village named, or loses to them.

Confidence (0..1) says how much the answer can be trusted: ≥ 0.8 for a full name in a consistent reading,
less for a bare stem or a lone road, ≤ 0.5 where the address contradicts itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

Status = Literal["located", "village_only", "town_only", "unlocated"]
MatchLevel = Literal["town", "village", "grid", "road", "landmark"]

TOWN_SUFFIXES = ("街道办事处", "街道办", "街道", "镇人民政府", "镇政府", "镇", "乡")
VILLAGE_SUFFIXES = ("社区居委会", "村委会", "居委会", "社区", "村")
MIN_STEM = 2  # a one-character stem (东, 南) would match almost any address

_GRID_AFTER = re.compile(r"\s*第?\s*([0-9]{1,3}|[一二三四五六七八九十百]{1,4})\s*(?:号)?\s*网格")
_SUFFIXED = re.compile(r"([\u4e00-\u9fff]{2})(?:社区|村)")
# An address that opens with a city (after an optional province): 深圳市龙岗区… names another city than this one.
_CITY_AT_START = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}省)?([\u4e00-\u9fff]{2,3}?)市(?=[\u4e00-\u9fff]{1,3}[区县])")
# Place-name characters callers and operators write for one another (same or near sound, or look): a typo of one
# of these in a village name is the likeliest reading when several villages differ from it by one character.
_SOUND_ALIKE = frozenset(frozenset(pair) for pair in (
    "湖胡", "坑吭", "岭领", "洲州", "岗冈", "平坪", "埔浦", "涌冲", "滘窖", "沙砂", "围韦", "塘唐", "源园", "桥乔",
    "凤风", "龙隆", "莲连", "榕容", "荔丽", "竹祝", "梅眉", "茶查", "田填", "基机", "庄装", "坊方", "溪西", "岸安",
    "头投", "尾委", "角脚", "边编", "美每", "联连", "兴星", "和河", "安岸", "江将", "石时", "金今", "黄王", "白百",
    "新心", "大达", "小晓", "中钟", "上尚", "下夏", "东冬", "南男", "北备", "水税", "山珊", "松宋", "桂贵", "河合"))
CITY_NAMES = ("东莞",)  # the demo city; a city's own gazetteer names its own
FUZZY_CONFIDENCE = 0.6
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass(frozen=True)
class PlaceArea:
    """A town, village or grid as the gazetteer needs it: names and a point inside it (no polygon)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True)
class PlacePoint:
    """A road or landmark a city imported, located once: the grid, village and town of its point."""

    name: str
    aliases: tuple[str, ...]
    kind: Literal["road", "landmark"]
    lon: float
    lat: float
    grid_code: str | None
    village_code: str | None
    town_code: str | None


@dataclass(frozen=True)
class Matched:
    """One name found in the address: its level, code, name and the text that matched."""

    level: MatchLevel
    code: str
    name: str
    text: str


@dataclass(frozen=True)
class Resolution:
    """Where an address is: the finest level it names, the point to show, what matched and how sure."""

    status: Status
    grid_code: str | None = None
    grid_name: str | None = None
    village_code: str | None = None
    village_name: str | None = None
    town_code: str | None = None
    town_name: str | None = None
    lon: float | None = None
    lat: float | None = None
    matched_text: str | None = None
    matched: tuple[Matched, ...] = ()
    confidence: float = 0.0

    @property
    def level(self) -> str | None:
        """The finest level the answer names (grid, village, town), None when unlocated."""
        return {"located": "grid", "village_only": "village", "town_only": "town"}.get(self.status)


UNLOCATED = Resolution("unlocated")


@dataclass(frozen=True)
class _Entry:
    """What a name stands for: a town, a village, or a road/landmark (``index`` into the points)."""

    level: str  # town | village | point
    code: str  # area code, or the point's index as text
    exact: bool  # the full name (or an imported alias), not a stem made here


@dataclass
class _Hit:
    start: int
    end: int
    entries: list[_Entry] = field(default_factory=list)


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), no spaces, at most 500 characters."""
    return "".join(unicodedata.normalize("NFKC", text[:500]).split())


def _strip(name: str, suffixes: Iterable[str]) -> str | None:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= MIN_STEM:
            return name[:-len(suffix)]
    return None


def _cn_number(text: str) -> int | None:
    """A grid number in digits or Chinese numerals up to 999 (三, 十二, 二十三); None if not a number."""
    if text.isdigit():
        return int(text)
    if "百" in text:
        head, _, tail = text.partition("百")
        hundreds = _CN_DIGITS.get(head, 1 if head == "" else 0)
        rest = _cn_number(tail) if tail else 0
        return None if not hundreds or rest is None else hundreds * 100 + rest
    if "十" in text:
        head, _, tail = text.partition("十")
        tens = _CN_DIGITS.get(head, 1 if head == "" else 0)
        ones = _CN_DIGITS.get(tail, 0 if tail == "" else -1)
        return None if not tens or ones < 0 else tens * 10 + ones
    return _CN_DIGITS.get(text) if len(text) == 1 else None


class Gazetteer:
    """The names of one grid set and a city's roads and landmarks; ``resolve`` an address to a place."""

    def __init__(self, areas: Iterable[PlaceArea], points: Iterable[PlacePoint] = (), version: str | None = None,
                 city_names: Iterable[str] = CITY_NAMES):
        self.version = version
        self.city_names = frozenset(city_names)
        self.areas = {a.code: a for a in areas}
        self.points = list(points)
        self._names: dict[str, list[_Entry]] = defaultdict(list)
        towns = [a for a in self.areas.values() if a.level == "town"]
        villages = [a for a in self.areas.values() if a.level == "village"]
        for town in towns:
            self._add(town.name, _Entry("town", town.code, True))
            stem = _strip(town.name, TOWN_SUFFIXES)
            if stem:
                self._add(stem, _Entry("town", town.code, False))
                for suffix in ("街道", "镇"):  # callers mix them up (南城镇 for 南城街道)
                    self._add(stem + suffix, _Entry("town", town.code, False))
        # A village's stem and its other suffix only where no other village of its town shares the stem.
        stems: dict[tuple[str | None, str], int] = defaultdict(int)
        stem_of: dict[str, str | None] = {}
        for village in villages:
            stem_of[village.code] = stem = _strip(village.name, VILLAGE_SUFFIXES)
            if stem:
                stems[(village.parent_code, stem)] += 1
        town_names = set(self._names)  # every town name and alias so far: a village never shares one
        for village in villages:
            self._add(village.name, _Entry("village", village.code, True))
            stem = stem_of[village.code]
            if stem and stems[(village.parent_code, stem)] == 1:
                entry = _Entry("village", village.code, False)
                for alias in (stem, stem + "村", stem + "社区", stem + "村委会", stem + "社区居委会"):
                    if alias != village.name and alias not in town_names:
                        self._add(alias, entry)
        for i, point in enumerate(self.points):
            for name in (point.name, *point.aliases):
                if len(name) >= MIN_STEM:
                    self._add(name, _Entry("point", str(i), True))
        self._lengths = sorted({len(n) for n in self._names}, reverse=True)
        self._stems_of_town: dict[str | None, dict[str, str]] = defaultdict(dict)
        for village in villages:
            stem = stem_of[village.code]
            if stem and stems[(village.parent_code, stem)] == 1:
                self._stems_of_town[village.parent_code][stem] = village.code
        self._grid_of = {(a.parent_code, a.name): a for a in self.areas.values() if a.level == "grid"}

    def _add(self, name: str, entry: _Entry) -> None:
        entries = self._names[normalise(name)]
        if not any(e.level == entry.level and e.code == entry.code for e in entries):
            entries.append(entry)

    def __len__(self) -> int:
        """How many names the gazetteer knows."""
        return len(self._names)

    # --- scanning ----------------------------------------------------------------------------------------------

    def _scan(self, text: str) -> list[_Hit]:
        """Every known name in the text, longest first where names overlap (a shorter one inside is dropped)."""
        names, n = self._names, len(text)
        hits: list[_Hit] = []
        for i in range(n):
            for length in self._lengths:
                if length > n - i:
                    continue
                entries = names.get(text[i:i + length])
                if entries:
                    hits.append(_Hit(i, i + length, list(entries)))
                    break  # the longest name starting here
        kept: list[_Hit] = []
        for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start)):
            if all(hit.end <= k.start or hit.start >= k.end for k in kept):
                kept.append(hit)
        return sorted(kept, key=lambda h: h.start)

    def _grid_after(self, text: str, end: int, village_code: str) -> PlaceArea | None:
        """The grid named right after a village (第3网格, 3号网格), if that village has it."""
        m = _GRID_AFTER.match(text, end)
        if not m:
            return None
        number = _cn_number(m.group(1))
        if number is None:
            return None
        village = self.areas[village_code]
        return self._grid_of.get((village_code, f"{village.name}第{number}网格"))

    # --- resolving ---------------------------------------------------------------------------------------------

    def resolve(self, address: str | None) -> Resolution:
        """The finest place an address names, consistent across levels; ``unlocated`` when it names nothing."""
        if not address:
            return UNLOCATED
        text = normalise(address)
        if self._foreign(text):
            return Resolution("unlocated", confidence=0.1)
        hits = self._scan(text)
        if not hits:
            return UNLOCATED
        town_hits = [(h, e) for h in hits for e in h.entries if e.level == "town"]
        village_hits = [h for h in hits if any(e.level == "village" for e in h.entries)
                        and not any(e.level == "town" for e in h.entries)]
        point_hits = [h for h in hits if any(e.level == "point" for e in h.entries)
                      and not any(e.level in ("town", "village") for e in h.entries)]
        towns = list(dict.fromkeys(e.code for _, e in town_hits))
        town_exact = any(e.exact for _, e in town_hits)
        used: list[tuple[_Hit, Matched]] = []

        def use(hit: _Hit, level: MatchLevel, code: str, name: str) -> None:
            used.append((hit, Matched(level, code, name, text[hit.start:hit.end])))

        # Villages: each hit may stand for several villages (a stem shared across towns).
        village_options: list[tuple[_Hit, list[_Entry]]] = [
            (h, [e for e in h.entries if e.level == "village"]) for h in village_hits]
        point_options = [(h, [self.points[int(e.code)] for e in h.entries if e.level == "point"])
                         for h in point_hits]

        conflict = False
        if len(towns) > 1:
            # Two towns named: only a village or landmark inside one of them settles it.
            inside = {self.areas[e.code].parent_code for _, es in village_options for e in es}
            inside |= {p.town_code for _, ps in point_options for p in ps}
            agreed = [t for t in towns if t in inside]
            if len(agreed) != 1:
                conflict = True
                towns = towns[:1]
            else:
                towns = agreed
        town = towns[0] if towns else None
        if town is not None:
            for hit, entry in town_hits:
                if entry.code == town:
                    use(hit, "town", town, self.areas[town].name)
                    break

        # The village: inside the named town, else (no town) the only candidate, else a landmark's village.
        village: PlaceArea | None = None
        village_exact = False
        village_hit: _Hit | None = None
        candidates: list[tuple[_Hit, _Entry]] = []
        foreign_exact = foreign_stem = False
        for hit, entries in village_options:
            fits = [e for e in entries if town is None or self.areas[e.code].parent_code == town]
            if not fits and town is not None:  # a village of another town under this town's name
                if any(e.exact for e in entries):
                    foreign_exact = True
                else:
                    foreign_stem = True
            candidates += [(hit, e) for e in fits]
        # A village of the named town found too: the other is a fragment of some other name (莲湖公园), not a clash.
        if not candidates:
            conflict = conflict or foreign_exact
        soft_conflict = not candidates and foreign_stem and not foreign_exact
        distinct = list(dict.fromkeys(e.code for _, e in candidates))
        if len(distinct) > 1:
            point_villages = {p.village_code for _, ps in point_options for p in ps}
            point_towns = {p.town_code for _, ps in point_options for p in ps}
            narrowed = [c for c in distinct if c in point_villages] or \
                [c for c in distinct if self.areas[c].parent_code in point_towns]
            distinct = narrowed if len(narrowed) == 1 else distinct
        ambiguous = len(distinct) > 1
        if len(distinct) == 1:
            hit, entry = next((h, e) for h, e in candidates if e.code == distinct[0])
            village, village_exact, village_hit = self.areas[entry.code], any(
                e.exact for _, e in candidates if e.code == distinct[0]), hit
            use(hit, "village", village.code, village.name)
            if town is None:
                town = village.parent_code
        fuzzy = False
        if village is None and town is not None and not ambiguous:
            found = self._near_village(text, town, {h.start for h, _ in used})
            if found is not None:
                village_hit, village = found
                fuzzy, soft_conflict = True, False
                use(village_hit, "village", village.code, village.name)

        # A road or landmark: it must agree with the town and village named.
        point: PlacePoint | None = None
        point_hit: _Hit | None = None
        point_towns: set[str | None] = set()
        for hit, options in point_options:
            fits = [p for p in options if p.town_code is not None
                    and (town is None or p.town_code == town)
                    and (village is None or p.village_code == village.code)]
            point_towns |= {p.town_code for p in fits}
            if len(fits) == 1 and point is None:
                point, point_hit = fits[0], hit
            elif not fits and options and (village is None or all(p.town_code != town for p in options)):
                conflict = conflict or town is not None
        split = len(point_towns) > 1  # roads or landmarks of different towns and no town named
        if point is not None and point_hit is not None:
            use(point_hit, point.kind, point.grid_code or point.village_code or point.town_code or "", point.name)
            if town is None:
                town = point.town_code

        grid: PlaceArea | None = None
        if village is not None and village_hit is not None:
            grid = self._grid_after(text, village_hit.end, village.code)
            if grid is not None:
                end = _GRID_AFTER.match(text, village_hit.end).end()  # type: ignore[union-attr]
                used.append((_Hit(village_hit.start, end), Matched("grid", grid.code, grid.name,
                                                                   text[village_hit.end:end])))

        if town is None:
            if ambiguous:  # a stem shared by villages of several towns, nothing to tell them apart
                names = [self.areas[c] for c in distinct]
                return Resolution("unlocated", matched_text=text[village_options[0][0].start:
                                                                 village_options[0][0].end],
                                  matched=tuple(Matched("village", a.code, a.name,
                                                        text[village_options[0][0].start:village_options[0][0].end])
                                                for a in names[:10]),
                                  confidence=0.2)
            return UNLOCATED
        answer = self._answer(text, used, town, village, grid, point, conflict=conflict,
                              ambiguous=ambiguous or split, town_exact=town_exact, village_exact=village_exact)
        if fuzzy or soft_conflict:  # a one-character slip, or a stem of another town's village: not sure
            answer = replace(answer, confidence=min(answer.confidence, FUZZY_CONFIDENCE))
        return answer

    def _near_village(self, text: str, town: str, taken: set[int]) -> tuple[_Hit, PlaceArea] | None:
        """A village of the named town written with one character wrong (中胡社区 for 中湖社区, 沙州村 for 沙洲村):
        a two-character stem before 村/社区 that differs from exactly one village stem of the town in one place."""
        stems = self._stems_of_town.get(town, {})
        for m in _SUFFIXED.finditer(text):
            if m.start() in taken:
                continue
            word = m.group(1)
            near = [(stem, code) for stem, code in stems.items() if len(stem) == len(word)
                    and sum(a != b for a, b in zip(stem, word, strict=True)) == 1]
            if len(near) > 1:  # several one-character neighbours: the one a slip of the ear or pen explains
                near = [(stem, code) for stem, code in near
                        if any(frozenset((a, b)) in _SOUND_ALIKE for a, b in zip(stem, word, strict=True) if a != b)]
            if len(near) == 1:
                return _Hit(m.start(), m.end()), self.areas[near[0][1]]
        return None

    def _foreign(self, text: str) -> bool:
        """Whether the address starts with (or after its province names) another city than this gazetteer's."""
        m = _CITY_AT_START.match(text)
        return bool(m) and m.group(1) not in self.city_names

    def _answer(self, text: str, used: list[tuple[_Hit, Matched]], town: str, village: PlaceArea | None,
                grid: PlaceArea | None, point: PlacePoint | None, *, conflict: bool, ambiguous: bool,
                town_exact: bool, village_exact: bool) -> Resolution:
        """The resolution of a consistent reading, with its confidence."""
        town_area = self.areas[town]
        named_town = any(m.level == "town" for _, m in used)
        if grid is not None:
            status: Status = "located"
            confidence = 0.97 if named_town else 0.9
        elif village is not None:
            status = "village_only"
            confidence = (0.95 if village_exact else 0.9) if named_town else (0.85 if village_exact else 0.7)
            if point is not None:
                confidence = min(0.97, confidence + 0.03)
        elif point is not None:
            # A landmark is a point: its grid. A road runs through many grids: the village of its point.
            status = "located" if point.kind == "landmark" and point.grid_code else "village_only" \
                if point.village_code else "town_only"
            confidence = 0.9 if named_town else (0.82 if point.kind == "landmark" else 0.75)
            if ambiguous:
                confidence = 0.5
        else:
            status = "town_only"
            confidence = (0.9 if town_exact else 0.8) if not ambiguous else 0.6
        if conflict:
            # The address contradicts itself: never a confident answer. A road or landmark of the named town still
            # places it (two names against one); otherwise no finer than the town named.
            confidence = min(confidence, 0.6 if point is not None and village is None else 0.4)
            if named_town and (village is not None or point is None):
                status, village, grid, point = "town_only", None, None, None
                used = [(h, m) for h, m in used if m.level == "town"]
        village_area = village
        if village_area is None and point is not None and status != "town_only":
            village_area = self.areas.get(point.village_code or "")
        grid_area = grid
        if grid_area is None and point is not None and status == "located":
            grid_area = self.areas.get(point.grid_code or "")
        if point is not None and status != "town_only" and village is None:
            lon, lat = point.lon, point.lat
        else:
            finest = grid_area or village_area or town_area
            lon, lat = finest.lon, finest.lat
        start = min(h.start for h, _ in used)
        end = max(h.end for h, _ in used)
        return Resolution(
            status, grid_area.code if grid_area else None, grid_area.name if grid_area else None,
            village_area.code if village_area else None, village_area.name if village_area else None,
            town_area.code, town_area.name, lon, lat, text[start:end], tuple(m for _, m in used),
            round(confidence, 2))


def areas_from_records(records: Iterable[object]) -> list[PlaceArea]:
    """Place areas from anything with code, name, level, parent_code and a shapely geometry (a point inside)."""
    out = []
    for r in records:
        geometry = getattr(r, "geometry", None)
        point = geometry.representative_point() if geometry is not None and not geometry.is_empty else None
        out.append(PlaceArea(r.code, r.name, r.level, r.parent_code,  # type: ignore[attr-defined]
                             point.x if point is not None else None, point.y if point is not None else None))
    return out
