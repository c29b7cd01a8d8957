"""GB/T 28181 alarm notifications (报警通知) and keepalives (保活), pure: a video platform's ``Notify`` XML in,
``AlarmIn`` or ``Keepalive`` out.

A GB/T 28181-2016 platform or camera reports an alarm as a MANSCDP ``Notify`` with ``CmdType`` ``Alarm``::

    <Notify><CmdType>Alarm</CmdType><SN>17430</SN><DeviceID>44190000001320000001</DeviceID>
      <AlarmPriority>2</AlarmPriority><AlarmMethod>5</AlarmMethod><AlarmTime>2026-12-02T10:19:14</AlarmTime>
      <Longitude>113.75</Longitude><Latitude>23.02</Latitude><AlarmDescription>…</AlarmDescription>
      <Info><AlarmType>3</AlarmType><AlarmTypeParam><EventType>exposed_garbage</EventType></AlarmTypeParam></Info>
    </Notify>

- ``AlarmPriority`` 1..4 (一级警情 the most serious … 四级) → severity critical, major, minor, info.
- ``AlarmMethod`` 1..7: 电话, 设备, 短信, GPS, 视频 (5), 设备故障, 其他. With 5 (video) the standard's
  ``Info/AlarmType`` names the analysis (1 人工视频, 2 运动目标检测, 3 遗留物检测, 4 物体移除检测, 5 绊线检测,
  6 入侵检测, 7 逆行检测, 8 徘徊检测, 9 流量统计, 10 密度检测, 11 视频异常检测, 12 快速移动); ``VIDEO_ALARM_TYPES``
  maps the ones that are a city problem to our alarm types.
- Urban-management algorithms (暴露垃圾, 占道经营 …) have no number in the standard: platforms carry their
  algorithm code in ``Info/AlarmTypeParam/EventType`` (or ``Info/EventType``). A non-numeric code there wins over
  the numeric mapping, through ``ALGORITHM_ALIASES`` or as our own alarm-type code (ingest checks it exists). A
  numeric ``EventType`` is the standard's 进入/离开区域 and maps nothing.
- ``AlarmTime`` is China local time without a zone (``2026-12-02T10:19:14``): read as +08:00. A time with its own
  offset keeps it.
- Extensions some AI platforms add, all inside ``Info`` and optional: ``Confidence`` (0..1), ``SnapshotURL``
  (http or https), ``AlarmState`` (``firing`` | ``resolved``: the camera's re-check no longer sees the problem).

The body is parsed with defusedxml (no DTD, no entities, nothing external) after a size check (64 KB); the
declared encoding may be UTF-8 or GB2312 (decoded as GB18030, its superset, since platforms that declare GB2312
often send GBK characters). Tag names are matched without regard to case (``cmdType`` is seen in the field). Any
problem raises ``GB28181Error`` naming the element; an alarm that maps to no alarm type raises its subclass
``UnmappedAlarm`` so the caller may answer OK and count it rather than have the platform resend it for ever.
The producer's id of an alarm is ``gb28181:<DeviceID>:<SN>:<AlarmTime>``: a resent Notify is the same alarm.

A device registered with the platform sends a ``Keepalive`` Notify every minute or so (the standard's default
interval is 60 s; three missed mean offline)::

    <Notify><CmdType>Keepalive</CmdType><SN>43</SN><DeviceID>44190000001320000001</DeviceID><Status>OK</Status>
    </Notify>

``Status`` OK is a heartbeat; ERROR is the device saying it does not work properly, which is not one.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_sensing.alarms.schemas import AlarmIn, Evidence

MAX_BYTES = 64 * 1024
CHINA_TIME = timezone(timedelta(hours=8), "CST")
FUTURE_SLACK = timedelta(minutes=5)  # the ingest window: ahead of now at most this
PAST_LIMIT = timedelta(days=7)  # and behind now at most this
YEARS = (2000, 2099)  # outside these an AlarmTime is a broken clock whatever ``now`` is

PRIORITY_SEVERITY: dict[int, str] = {1: "critical", 2: "major", 3: "minor", 4: "info"}
ALARM_METHODS: dict[int, str] = {1: "电话报警", 2: "设备报警", 3: "短信报警", 4: "GPS报警", 5: "视频报警",
                                 6: "设备故障报警", 7: "其他报警"}
VIDEO_METHOD = 5
# Method 5's AlarmType numbers that are a city problem; the others (motion, tripwire, intrusion, loitering, …)
# are security analytics with no case behind them.
VIDEO_ALARM_TYPES: dict[int, str] = {3: "piled_materials", 10: "crowd_gathering"}
# Algorithm codes some platforms use for the same thing, by lower-cased code.
ALGORITHM_ALIASES: dict[str, str] = {
    "garbage_exposure": "exposed_garbage", "garbage": "exposed_garbage",
    "road_occupation_business": "street_vending", "out_of_store_business": "street_vending",
    "street_vendor": "street_vending", "material_piling": "piled_materials", "pile_up": "piled_materials",
    "parking_violation": "illegal_parking", "illegal_park": "illegal_parking",
    "crowd": "crowd_gathering", "people_gathering": "crowd_gathering",
    "fire_smoke": "smoke_fire", "smoke_and_fire": "smoke_fire", "firesmoke": "smoke_fire",
    "fire_lane_occupation": "fire_lane_blocked", "fire_passage_blocked": "fire_lane_blocked",
}
ENCODINGS: dict[str, str] = {"utf-8": "utf-8", "utf8": "utf-8", "gb2312": "gb18030", "gbk": "gb18030",
                             "gb18030": "gb18030", "us-ascii": "utf-8", "ascii": "utf-8"}

_DECLARATION = re.compile(rb"^\s*<\?xml\b(?P<body>[^>]*?)\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["'](?P<enc>[A-Za-z0-9._-]{1,40})["']""")
_DEVICE_ID = re.compile(r"[0-9]{20}")
_SN = re.compile(r"[0-9]{1,10}")
_INT = re.compile(r"[0-9]{1,3}")
_TIME = re.compile(r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
                   r"(?P<frac>\.[0-9]{1,6})?(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?")
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class GB28181Error(ValidationFailed):
    """A Notify that cannot become an alarm; ``field`` names the element, ``sn``/``device_id`` when already read."""

    def __init__(self, field: str, reason: str, sn: str | None = None, device_id: str | None = None):
        self.field = field
        self.reason = reason
        self.sn = sn
        self.device_id = device_id
        super().__init__("invalid GB/T 28181 notification", [ErrorDetail(field, reason)])


class UnmappedAlarm(GB28181Error):
    """A well-formed alarm that none of our alarm types covers (e.g. motion detection)."""


def decode(body: bytes) -> str:
    """The text of a MANSCDP body by its declared encoding (UTF-8 when undeclared), declaration removed."""
    if len(body) > MAX_BYTES:
        raise GB28181Error("body", f"larger than {MAX_BYTES} bytes")
    if not body.strip():
        raise GB28181Error("body", "empty")
    encoding = declared_name = "utf-8"
    declaration = _DECLARATION.match(body)
    if declaration:
        declared = _ENCODING.search(declaration.group("body"))
        if declared:
            name = declared.group("enc").decode("ascii").lower()
            if name not in ENCODINGS:
                raise GB28181Error("encoding", f"{name} not supported: UTF-8 or GB2312")
            encoding, declared_name = ENCODINGS[name], name
        body = body[declaration.end():]
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise GB28181Error("encoding", f"not valid {declared_name} at byte {exc.start}") from None
    if "\x00" in text:
        raise GB28181Error("body", "contains a NUL character")
    return text


def parse_xml(body: bytes) -> ET.Element:
    """The root element of a MANSCDP body: defused (no DTD, no entities, nothing external) and size-checked."""
    text = decode(body)
    try:
        return DET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise GB28181Error("xml", f"forbidden construct: {type(exc).__name__}") from None
    except ET.ParseError as exc:
        raise GB28181Error("xml", f"malformed: {exc}") from None


def _child(parent: ET.Element | None, name: str) -> ET.Element | None:
    if parent is None:
        return None
    want = name.lower()
    for el in parent:
        if isinstance(el.tag, str) and el.tag.lower() == want:
            return el
    return None


def _text(parent: ET.Element | None, name: str) -> str | None:
    el = _child(parent, name)
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


class _Reader:
    """Reads one Notify's elements, raising errors that name the element and carry the ids already read."""

    def __init__(self, root: ET.Element):
        self.root = root
        self.info = _child(root, "Info")
        self.sn: str | None = None
        self.device_id: str | None = None

    def fail(self, field: str, reason: str, cls: type[GB28181Error] = GB28181Error) -> GB28181Error:
        return cls(field, reason, self.sn, self.device_id)

    def required(self, name: str) -> str:
        value = _text(self.root, name)
        if value is None:
            raise self.fail(name, "required")
        return value

    def integer(self, field: str, value: str, allowed: range) -> int:
        if not _INT.fullmatch(value) or int(value) not in allowed:
            raise self.fail(field, f"an integer {allowed.start}..{allowed.stop - 1}, got {value[:20]!r}")
        return int(value)

    def number(self, field: str, value: str | None, low: float, high: float) -> float | None:
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.fail(field, f"a number, got {value[:20]!r}") from None
        if not math.isfinite(number) or not low <= number <= high:
            raise self.fail(field, f"a number {low:g}..{high:g}, got {value[:20]!r}")
        return number


def alarm_time(text: str, now: datetime | None = None) -> datetime:
    """An AlarmTime as an aware datetime (China time when it has no zone); ValueError saying why."""
    m = _TIME.fullmatch(text)
    if m is None:
        raise ValueError("YYYY-MM-DDThh:mm:ss (China time)")
    try:
        naive = datetime.fromisoformat(f"{m.group('date')}T{m.group('time')}{m.group('frac') or ''}")
    except ValueError:
        raise ValueError("not a calendar date and time") from None
    zone = m.group("zone")
    if zone is None:
        at = naive.replace(tzinfo=CHINA_TIME)
    else:
        at = datetime.fromisoformat(naive.isoformat() + ("+00:00" if zone == "Z" else zone))
    if not YEARS[0] <= at.year <= YEARS[1]:
        raise ValueError(f"year outside {YEARS[0]}..{YEARS[1]}")
    if now is not None:
        if at > now + FUTURE_SLACK:
            raise ValueError("more than 5 minutes in the future")
        if at < now - PAST_LIMIT:
            raise ValueError("more than 7 days in the past")
    return at


def map_alarm_type(method: int, gb_type: int | None, algorithm: str | None) -> str | None:
    """Our alarm type for a method, the standard's AlarmType and a platform's algorithm code; None if none fits."""
    if algorithm is not None and not algorithm.isdigit():
        return ALGORITHM_ALIASES.get(algorithm.lower(), algorithm)
    if method == VIDEO_METHOD and gb_type is not None:
        return VIDEO_ALARM_TYPES.get(gb_type)
    return None


@dataclass(frozen=True)
class Keepalive:
    """A device's GB/T 28181 Keepalive (保活) Notify: alive now; ``ok`` False when its Status is ERROR (it says it
    is not working properly)."""

    sn: str
    device_id: str
    ok: bool


def _notify(xml: bytes) -> tuple[_Reader, str]:
    """The reader of a Notify body and its CmdType; GB28181Error when the root is not a Notify."""
    root = parse_xml(xml)
    r = _Reader(root)
    if not isinstance(root.tag, str) or root.tag.lower() != "notify":
        raise r.fail("Notify", f"root element must be Notify, got {str(root.tag)[:40]}")
    return r, r.required("CmdType")


def _ids(r: _Reader) -> tuple[str, str]:
    """The Notify's SN and DeviceID, checked and kept on the reader for the errors after them."""
    sn = r.required("SN")
    if not _SN.fullmatch(sn):
        raise r.fail("SN", "an integer of at most 10 digits")
    r.sn = sn
    device_id = r.required("DeviceID")
    if not _DEVICE_ID.fullmatch(device_id):
        raise r.fail("DeviceID", "20 digits (GB/T 28181 code)")
    r.device_id = device_id
    return sn, device_id


def parse_notify(xml: bytes, now: datetime | None = None) -> list[AlarmIn] | Keepalive:
    """A Notify as its alarms (``CmdType`` Alarm) or as a device's Keepalive; GB28181Error naming the element
    otherwise (an alarm that maps to no alarm type: its subclass ``UnmappedAlarm``).

    With ``now``, an AlarmTime outside the ingest window (5 minutes ahead, 7 days back) is refused here, naming
    ``AlarmTime``, rather than later as ``occurred_at``.
    """
    r, cmd = _notify(xml)
    if cmd.lower() == "keepalive":
        sn, device_id = _ids(r)
        status = r.required("Status")
        if status.upper() not in ("OK", "ERROR"):
            raise r.fail("Status", f"OK or ERROR, got {status[:20]!r}")
        return Keepalive(sn=sn, device_id=device_id, ok=status.upper() == "OK")
    if cmd.lower() != "alarm":
        raise r.fail("CmdType", f"must be Alarm or Keepalive, got {cmd[:40]!r}")
    return _alarms(r, now)


def _alarms(r: _Reader, now: datetime | None) -> list[AlarmIn]:
    """``parse_notify``'s reading of an alarm Notify's elements after its CmdType."""
    root = r.root
    sn, device_id = _ids(r)
    priority = r.integer("AlarmPriority", r.required("AlarmPriority"), range(1, 5))
    method = r.integer("AlarmMethod", r.required("AlarmMethod"), range(1, 8))
    time_text = r.required("AlarmTime")
    try:
        occurred_at = alarm_time(time_text, now)
    except ValueError as exc:
        raise r.fail("AlarmTime", str(exc)) from None
    r.number("Longitude", _text(root, "Longitude"), -180, 180)
    r.number("Latitude", _text(root, "Latitude"), -90, 90)

    info = r.info
    gb_type_text = _text(info, "AlarmType")
    gb_type = r.integer("Info.AlarmType", gb_type_text, range(1, 1000)) if gb_type_text is not None else None
    algorithm = _text(_child(info, "AlarmTypeParam"), "EventType") or _text(info, "EventType")
    if algorithm is not None and not algorithm.isdigit() and not _CODE.fullmatch(algorithm):
        raise r.fail("Info.AlarmTypeParam.EventType", "an algorithm code of letters, digits, _ . -")
    alarm_type = map_alarm_type(method, gb_type, algorithm)
    if alarm_type is None:
        raise r.fail("Info.AlarmType", f"no alarm type for AlarmMethod {method} ({ALARM_METHODS[method]}) "
                     f"AlarmType {gb_type_text or '-'}: send the algorithm code in AlarmTypeParam/EventType",
                     UnmappedAlarm)
    if not _CODE.fullmatch(alarm_type):
        raise r.fail("Info.AlarmTypeParam.EventType", "an algorithm code of letters, digits, _ . -")

    confidence = r.number("Info.Confidence", _text(info, "Confidence"), 0, 1)
    snapshot = _text(info, "SnapshotURL")
    if snapshot is not None and not snapshot.lower().startswith(("http://", "https://")):
        raise r.fail("Info.SnapshotURL", "an http(s) URL")
    state = (_text(info, "AlarmState") or "firing").lower()
    if state not in ("firing", "resolved"):
        raise r.fail("Info.AlarmState", "firing or resolved")
    labels = {"gb_alarm_method": str(method)}
    if gb_type is not None:
        labels["gb_alarm_type"] = str(gb_type)
    try:
        alarm = AlarmIn(
            alarm_id=f"gb28181:{device_id}:{sn}:{occurred_at.isoformat()}",
            device_id=device_id, alarm_type=alarm_type, state=state, severity=PRIORITY_SEVERITY[priority],
            occurred_at=occurred_at, confidence=confidence,
            evidence=Evidence(snapshot_url=snapshot) if snapshot else None, labels=labels)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = {"snapshot_url": "Info.SnapshotURL"}.get(str(err["loc"][-1]), "Notify")
        raise r.fail(field, err["msg"][:200]) from None
    return [alarm]


def alarm_response(sn: str | None, device_id: str | None, ok: bool, encoding: str = "UTF-8") -> bytes:
    """The MANSCDP ``Response`` a platform expects to an alarm Notify: ``Result`` OK or ERROR."""
    return notify_response("Alarm", sn, device_id, ok, encoding)


def notify_response(cmd: str, sn: str | None, device_id: str | None, ok: bool, encoding: str = "UTF-8") -> bytes:
    """The MANSCDP ``Response`` to a Notify of ``cmd`` (Alarm, Keepalive): ``Result`` OK or ERROR."""
    codec = ENCODINGS.get(encoding.lower())
    if codec is None:
        raise ValueError(f"encoding {encoding} not supported")
    text = (f'<?xml version="1.0" encoding="{encoding}"?>\r\n<Response>\r\n<CmdType>{escape(cmd)}</CmdType>\r\n'
            f"<SN>{escape(sn or '0')}</SN>\r\n<DeviceID>{escape(device_id or '')}</DeviceID>\r\n"
            f"<Result>{'OK' if ok else 'ERROR'}</Result>\r\n</Response>\r\n")
    return text.encode(codec)
