"""Reading a bulk import of devices (CSV or GeoJSON) into checked rows, pure: bytes in, rows or the first bad
fields out. Nothing is stored here; the handler stores all rows or none.

CSV: a header row naming ``device_id, kind, name, lon, lat`` and optionally ``owner_department`` and ``algorithms``
(alarm-type codes separated by ``;``), UTF-8 (a byte-order mark is allowed). GeoJSON: a FeatureCollection of Point
features (WGS84 lon/lat) whose properties hold the same fields (``algorithms`` a list or a ``;`` string; the
feature's ``id`` may stand for ``device_id``). A bad field is named ``rows[i].<field>`` (CSV, i counting data rows
from 0) or ``features[i].<field>``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from gridgov_common import i18n
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_sensing.devices.schemas import DeviceCreate, id_problem

MAX_ROWS = 50_000
MAX_DETAILS = 50  # a file with a thousand bad rows names the first fifty
REQUIRED = ("device_id", "kind", "name", "lon", "lat")
OPTIONAL = ("owner_department", "algorithms")


def _refused(message: str, message_zh: str, field: str, reason: str, reason_zh: str | None = None
             ) -> ValidationFailed:
    error = ValidationFailed(message, [ErrorDetail(field, reason, reason_zh)])
    error.message_zh = message_zh
    return error


def _algorithms(value: Any) -> Any:
    if isinstance(value, str):
        return [code.strip() for code in value.split(";") if code.strip()]
    return [] if value is None else value


def _checked(items: Iterable[tuple[str, dict[str, Any]]]) -> list[DeviceCreate]:
    """Each raw row as a DeviceCreate; ValidationFailed naming every bad field (up to MAX_DETAILS) otherwise."""
    rows: list[DeviceCreate] = []
    details: list[ErrorDetail] = []
    seen: dict[str, str] = {}
    for prefix, raw in items:
        try:
            row = DeviceCreate.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"])
                details.append(ErrorDetail(f"{prefix}.{where}" if where else prefix, error["msg"],
                                           i18n.validation_reason_zh(error)))
            continue
        problem = id_problem(row.kind, row.device_id)
        if problem:
            details.append(ErrorDetail(f"{prefix}.device_id", problem, "摄像机编号须为 GB/T 28181 规定的 20 位数字"))
        elif row.device_id in seen:
            details.append(ErrorDetail(f"{prefix}.device_id", f"the same device as {seen[row.device_id]}",
                                       f"与 {seen[row.device_id]} 是同一设备"))
        else:
            seen[row.device_id] = prefix
            rows.append(row)
        if len(details) >= MAX_DETAILS:
            break
    if details:
        error = ValidationFailed("devices refused: nothing was imported", details[:MAX_DETAILS])
        error.message_zh = "设备导入被拒绝，未导入任何设备"
        raise error
    return rows


def _too_many(field: str, count: int, max_rows: int) -> ValidationFailed:
    return _refused("too many devices", "设备过多", field, f"{count} devices; at most {max_rows} a call",
                    f"一次最多导入 {max_rows} 个设备")


def _number(text: str) -> Any:
    """A CSV cell as a number where it is one (the strict schema refuses a string for lon/lat)."""
    try:
        return float(text)
    except ValueError:
        return text


def read_csv(body: bytes, max_rows: int = MAX_ROWS) -> list[DeviceCreate]:
    """The devices of a CSV file (see the module's docstring); at most ``max_rows`` (the API's limit by default)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refused("not UTF-8", "文件不是 UTF-8 编码", "body", f"not UTF-8 at byte {exc.start}",
                       f"第 {exc.start} 字节不是 UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    if missing or unknown:
        reason = "; ".join(filter(None, (missing and f"missing columns {', '.join(missing)}",
                                         unknown and f"unknown columns {', '.join(unknown)}")))
        raise _refused("bad CSV header", "CSV 表头不正确", "header", reason,
                       f"表头须含 {', '.join(REQUIRED)}，可选 {', '.join(OPTIONAL)}")
    reader.fieldnames = header
    records = []
    for i, record in enumerate(reader):
        if i >= max_rows:
            raise _too_many("rows", i + 1, max_rows)
        if None in record:  # more cells than the header names
            raise _refused("bad CSV row", "CSV 行不正确", f"rows[{i}]", "more cells than the header", "列数多于表头")
        raw: dict[str, Any] = {k: (v.strip() if isinstance(v, str) else v) for k, v in record.items()}
        raw["lon"], raw["lat"] = _number(raw["lon"] or ""), _number(raw["lat"] or "")
        raw["owner_department"] = raw.get("owner_department") or None
        raw["algorithms"] = _algorithms(raw.get("algorithms"))
        records.append((f"rows[{i}]", raw))
    if not records:
        raise _refused("no devices", "文件中没有设备", "rows", "the file has a header but no device",
                       "只有表头，没有设备")
    return _checked(records)


def read_geojson(body: bytes, max_rows: int = MAX_ROWS) -> list[DeviceCreate]:
    """The devices of a GeoJSON FeatureCollection of points (see the module's docstring); at most ``max_rows``."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _refused("not JSON", "不是 JSON", "body", f"not JSON: {exc}"[:200], "不是合法的 JSON") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"),
                                                                                                 list):
        raise _refused("not a FeatureCollection", "不是 GeoJSON 要素集合", "type",
                       "must be a GeoJSON FeatureCollection", "须为 GeoJSON FeatureCollection")
    features = doc["features"]
    if not features:
        raise _refused("no devices", "文件中没有设备", "features", "the collection has no feature", "集合中没有要素")
    if len(features) > max_rows:
        raise _too_many("features", len(features), max_rows)
    records = []
    for i, feature in enumerate(features):
        prefix = f"features[{i}]"
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not (isinstance(geometry, dict) and geometry.get("type") == "Point" and isinstance(coords, list)
                and len(coords) in (2, 3)):
            raise _refused("not a point", "设备位置须为点", f"{prefix}.geometry", "must be a GeoJSON Point",
                           "须为 GeoJSON Point")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise _refused("bad properties", "属性不正确", f"{prefix}.properties", "must be an object", "须为对象")
        # Only the fields a device is registered with: a collection exported by GET /v1/devices (grid, online …)
        # imports back as it is.
        raw = {k: v for k, v in props.items() if k in REQUIRED + OPTIONAL}
        raw.update(lon=coords[0], lat=coords[1], algorithms=_algorithms(props.get("algorithms")))
        if "device_id" not in raw and isinstance(feature.get("id"), str):
            raw["device_id"] = feature["id"]
        records.append((prefix, raw))
    return _checked(records)
