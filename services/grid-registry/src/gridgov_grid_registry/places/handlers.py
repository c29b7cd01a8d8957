"""Use cases of places: build the gazetteer of the grid set in effect, resolve addresses, import and seed the
roads and landmarks (CSV ``name,aliases,kind,lon,lat[,town]``, all or nothing)."""

from __future__ import annotations

import csv
import io
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from sqlalchemy import delete, insert
from sqlmodel import Session, select

from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_common.limits import check_text
from gridgov_grid_registry.grids.index import Locator
from gridgov_grid_registry.places import service
from gridgov_grid_registry.places.gazetteer import Gazetteer, PlacePoint, normalise
from gridgov_grid_registry.places.models import Landmark

log = logging.getLogger(__name__)

COLUMNS = ("name", "aliases", "kind", "lon", "lat")
OPTIONAL_COLUMNS = ("town",)  # when given, the point must lie in that town (a check on the city's own file)
KINDS = ("road", "landmark")
MAX_IMPORT_BYTES = 1024 * 1024  # the service-wide body limit: about 20,000 rows
MAX_ROWS = 20_000
NAME_MAX, ALIASES_MAX = 100, 500
DEMO_SEED = "landmarks_demo.csv"


@dataclass(frozen=True)
class LandmarkRow:
    """One valid line of a landmark CSV."""

    line: int
    name: str
    aliases: tuple[str, ...]
    kind: str
    lon: float
    lat: float
    town: str | None


def _invalid(message: str, message_zh: str, details: list[ErrorDetail]) -> ValidationFailed:
    """A ValidationFailed with its Chinese message (Accept-Language: zh)."""
    error = ValidationFailed(message, details)
    error.message_zh = message_zh
    return error


def _problem(line: int, column: str, reason: str, reason_zh: str) -> ErrorDetail:
    return ErrorDetail(f"line {line}: {column}", reason, reason_zh)


def decode_csv(body: bytes) -> str:
    """The upload as text: UTF-8 (a BOM allowed), else ValidationFailed naming the body."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _invalid("the landmarks must be UTF-8 CSV", "地标文件须为 UTF-8 编码的 CSV",
                       [ErrorDetail("body", f"not UTF-8 at byte {exc.start}",
                                            f"第 {exc.start} 字节处不是 UTF-8 编码")]) from None


def parse_csv(text: str, locator: Locator) -> list[LandmarkRow]:
    """Read and check a whole landmark CSV (line numbers as in the file, header = line 1): every row or none.

    Each point must fall in a town of the grid set in effect (and in the ``town`` named, when that column is
    given); names must be unique within the file.
    """
    problems: list[ErrorDetail] = []
    try:
        check_text(text)
    except ValueError as exc:
        raise _invalid("the CSV holds characters that are not allowed", "CSV 含有不允许的字符",
                       [ErrorDetail("body", str(exc), "含有不允许的控制字符")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise _invalid("unreadable CSV", "CSV 无法读取", [_problem(1, "header", str(exc), "CSV 格式错误")]) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise _invalid("the CSV lacks columns", "CSV 缺少列", [
            _problem(1, c, f"column {c} is missing; the header is {','.join(COLUMNS)}",
                     f"缺少列 {c}；表头应为 {','.join(COLUMNS)}") for c in missing])
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise _invalid("the CSV has unknown columns", "CSV 有未知的列", [
            _problem(1, c[:40] or "(empty)", "unknown column", "未知的列") for c in unknown[:20]])
    at = {c: header.index(c) for c in header}
    towns = _towns(locator)
    rows: list[LandmarkRow] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                problems.append(_problem(line, "name", f"at most {MAX_ROWS} rows per import",
                                         f"每次最多导入 {MAX_ROWS} 行"))
                break
            if len(record) != len(header):
                problems.append(_problem(line, "row", f"{len(record)} cells, the header has {len(header)}",
                                         f"本行 {len(record)} 个字段，表头为 {len(header)} 个"))
                continue
            row = _row(line, {c: record[i].strip() for c, i in at.items()}, towns, locator, seen, problems)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        problems.append(_problem(reader.line_num, "row", f"unreadable CSV: {exc}", "CSV 格式错误"))
    if problems:
        shown = problems[:200]
        raise _invalid(f"{len(problems)} problems in the CSV; nothing was imported",
                       f"CSV 中有 {len(problems)} 处问题，未导入任何数据", shown)
    if not rows:
        raise _invalid("the CSV has no rows", "CSV 没有数据行", [_problem(2, "name", "no landmark rows", "没有数据行")])
    return rows


def _towns(locator: Locator) -> dict[str, str]:
    """Town name → code, and code → code, of the grid set in effect (a ``town`` cell may give either)."""
    answers = locator.answers
    names = {loc.town_name: loc.town_code for loc in (answers.location(answers.answer_of_code[c])
                                                      for c in answers.town_codes)}
    return {**names, **{c: c for c in answers.town_codes}}  # type: ignore[dict-item]


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _row(line: int, cells: dict[str, str], towns: dict[str, str], locator: Locator, seen: dict[str, int],
         problems: list[ErrorDetail]) -> LandmarkRow | None:
    """One line checked; its problems appended (every column, not only the first)."""
    before = len(problems)
    name = cells["name"]
    if not name or len(name) > NAME_MAX or len(normalise(name)) < 2:
        problems.append(_problem(line, "name", f"a name of 2-{NAME_MAX} characters is required",
                                 f"名称须为 2-{NAME_MAX} 个字符"))
    elif name in seen:
        problems.append(_problem(line, "name", f"the same name as line {seen[name]}", f"与第 {seen[name]} 行重名"))
    seen.setdefault(name, line)
    aliases = tuple(dict.fromkeys(a.strip() for a in cells["aliases"].replace("；", "|").replace(";", "|")
                                  .split("|") if a.strip()))
    if len(cells["aliases"]) > ALIASES_MAX or any(len(a) > NAME_MAX or len(normalise(a)) < 2 for a in aliases):
        problems.append(_problem(line, "aliases", f"aliases are separated by '|', each 2-{NAME_MAX} characters, "
                                                  f"{ALIASES_MAX} in all", "别名以“|”分隔，每个 2-100 个字符"))
    kind = cells["kind"].lower()
    if kind not in KINDS:
        problems.append(_problem(line, "kind", "must be road or landmark", "须为 road（道路）或 landmark（地标）"))
    lon, lat = _number(cells["lon"]), _number(cells["lat"])
    if lon is None or not -180 <= lon <= 180:
        problems.append(_problem(line, "lon", "a longitude between -180 and 180 (WGS84)", "经度须在 -180 到 180 之间"))
    if lat is None or not -90 <= lat <= 90:
        problems.append(_problem(line, "lat", "a latitude between -90 and 90 (WGS84)", "纬度须在 -90 到 90 之间"))
    town = cells.get("town") or None
    if lon is not None and lat is not None and len(problems) == before:
        where = locator.locate(lon, lat)
        if where.town_code is None:
            problems.append(_problem(line, "lon", "the point is outside every town of the grid set in effect",
                                     "该点不在当前网格方案的任何镇街内"))
        elif town is not None and towns.get(town) != where.town_code:
            known = town in towns
            problems.append(_problem(line, "town", f"the point lies in {where.town_name}, not in {town[:40]}"
                                     if known else "unknown town", f"该点位于{where.town_name}，不在{town[:40]}"
                                     if known else "未知的镇街"))
    if len(problems) > before:
        return None
    return LandmarkRow(line, name, aliases, kind, lon, lat, town)  # type: ignore[arg-type]


def store(db: Database, rows: list[LandmarkRow], source: str) -> tuple[int, int]:
    """Insert or replace the rows by name, in one transaction; (created, updated)."""
    now = datetime.now(UTC)
    names = [r.name for r in rows]
    with db.session() as session:
        existing: set[str] = set()
        for start in range(0, len(names), 500):
            existing |= set(session.exec(select(Landmark.name).where(
                Landmark.name.in_(names[start:start + 500]))).all())  # type: ignore[attr-defined]
        for start in range(0, len(names), 500):
            session.execute(delete(Landmark).where(Landmark.name.in_(names[start:start + 500])))  # type: ignore[attr-defined]
        session.execute(insert(Landmark), [
            {"name": r.name, "aliases": "|".join(r.aliases), "kind": r.kind, "lon": r.lon, "lat": r.lat,
             "source": source, "updated_at": now} for r in rows])
        session.commit()
    return len(rows) - len(existing), len(existing)


def import_csv(db: Database, locator: Locator, text: str) -> tuple[int, int]:
    """Check a city's landmark CSV and store it, all or nothing; (created, updated)."""
    return store(db, parse_csv(text, locator), "import")


def demo_seed_text() -> str:
    """The demo city's roads and landmarks (written for the project, ``places/data/landmarks_demo.csv``)."""
    return resources.files("gridgov_grid_registry.places").joinpath("data", DEMO_SEED).read_text("utf-8")


def seed_demo(db: Database, locator: Locator) -> bool:
    """Store the demo roads and landmarks unless any landmark is stored (a city's own import is never touched)."""
    with db.session() as session:
        if session.exec(select(Landmark.name).limit(1)).first() is not None:
            return False
    if not locator.answers.town_codes:
        return False
    store(db, parse_csv(demo_seed_text(), locator), "seed")
    return True


def build_gazetteer(session: Session, locator: Locator) -> Gazetteer:
    """The gazetteer of the grid set the locator answers from, with every landmark located once in it."""
    version = locator.version
    areas = service.place_areas(session, version) if version else []
    landmarks = service.list_landmarks(session)
    points = []
    for lm in landmarks:
        where = locator.locate(lm.lon, lm.lat)
        if where.town_code is None:
            continue  # outside the set in effect (an older import): it names nothing here
        points.append(PlacePoint(lm.name, tuple(a for a in lm.aliases.split("|") if a), lm.kind,  # type: ignore[arg-type]
                                 lm.lon, lm.lat, where.grid_code, where.village_code, where.town_code))
    return Gazetteer(areas, points, version)


class GazetteerCache:
    """The gazetteer of the grid set in effect, rebuilt when the set or the landmarks change.

    Landmark changes by another process are noticed within ``interval`` seconds (one cheap query then); this
    process's own import invalidates at once.
    """

    def __init__(self, db: Database, interval: float = 5.0):
        self.db = db
        self.interval = interval
        self._gazetteer: Gazetteer | None = None
        self._signature: tuple[int, str | None] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Rebuild at the next use."""
        self._gazetteer = None

    def get(self, locator: Locator, session: Session | None = None) -> Gazetteer:
        """The gazetteer for the locator's grid set (built on first use, ~0.1 s for the demo city).

        A consumer passes its own session: the embedded stack's SQLite pool has one connection, and a second
        session opened inside the consumer's transaction would wait for it forever.
        """
        current = self._gazetteer
        now = time.monotonic()
        if current is not None and current.version == locator.version and now - self._checked < self.interval:
            return current
        with self._lock:
            if session is None:
                with self.db.session() as own:
                    return self._refresh(locator, own, now)
            return self._refresh(locator, session, now)

    def _refresh(self, locator: Locator, session: Session, now: float) -> Gazetteer:
        sig = service.signature(session)
        self._checked = now
        if self._gazetteer is None or self._gazetteer.version != locator.version or sig != self._signature:
            self._gazetteer = build_gazetteer(session, locator)
            self._signature = sig
        return self._gazetteer
