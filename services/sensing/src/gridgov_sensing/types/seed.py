"""The alarm types sensing starts with (告警类型): what each camera algorithm or sensor alarm means for a case.

Each type names the catalog item its cases are filed under (an existing code of ``catalog_seed.csv``; dispatch
resolves a minor code to its middle class), the report channel (``video_ai`` or ``iot``), the fields its
fingerprint folds repeats by, the window in which a repeat still joins the open group, its case policy, the
confidence below which its alarms are suppressed, whether the device's own "resolved" counts as verification, and
when a device counts as flapping. Lane A stores these rows at first start and serves/edits them; this tuple is
data only.

Case policy: ``auto`` where the algorithm is reliable or the danger is immediate (a case at once), ``verify_first``
where false positives are common or the response is costly (a grid worker checks first), ``record_only`` where the
alarm is context rather than a problem (crowds at a market are not a case by themselves).
"""

from __future__ import annotations

from typing import Any

from gridgov_sensing.alarms.fingerprint import DEFAULT_FIELDS

VIDEO_AI = "video_ai"
IOT = "iot"


def _type(code: str, name_zh: str, kind: str, catalog_code: str, case_policy: str, *,
          min_confidence: float | None = None, resolved_verifies: bool = False,
          dedupe_window: str = "30m", flap_threshold: int = 4, flap_window: str = "1h",
          fingerprint_fields: tuple[str, ...] = DEFAULT_FIELDS) -> dict[str, Any]:
    return {"code": code, "name_zh": name_zh, "kind": kind, "catalog_code": catalog_code,
            "fingerprint_fields": list(fingerprint_fields), "dedupe_window": dedupe_window,
            "case_policy": case_policy, "min_confidence": min_confidence, "resolved_verifies": resolved_verifies,
            "flap_threshold": flap_threshold, "flap_window": flap_window}


ALARM_TYPES: tuple[dict[str, Any], ...] = (
    # Camera algorithms (视频AI). A camera's re-check that no longer sees the problem may verify the simple
    # street-order cases (some districts close them on an AI re-check); never the fire ones.
    _type("street_vending", "占道经营", VIDEO_AI, "05002", "auto", min_confidence=0.8, resolved_verifies=True),
    _type("exposed_garbage", "暴露垃圾", VIDEO_AI, "01002", "auto", min_confidence=0.75, resolved_verifies=True),
    _type("piled_materials", "乱堆物料", VIDEO_AI, "05005", "verify_first", min_confidence=0.7),
    _type("illegal_parking", "违停", VIDEO_AI, "05003", "auto", min_confidence=0.85, resolved_verifies=True,
          dedupe_window="2h"),
    _type("crowd_gathering", "人员聚集", VIDEO_AI, "26004", "record_only", min_confidence=0.6,
          dedupe_window="1h"),
    _type("smoke_fire", "烟火", VIDEO_AI, "22099", "verify_first", min_confidence=0.6, dedupe_window="10m"),
    _type("fire_lane_blocked", "消防通道占用", VIDEO_AI, "2200101", "auto", min_confidence=0.8),
    _type("illegal_advertising", "占道广告牌", VIDEO_AI, "02003", "verify_first", min_confidence=0.7,
          dedupe_window="1d"),
    _type("construction_dust", "工地扬尘", VIDEO_AI, "03002", "verify_first", min_confidence=0.7,
          dedupe_window="2h"),
    _type("road_flooding_video", "道路积水(视频)", VIDEO_AI, "04004", "verify_first", min_confidence=0.7,
          dedupe_window="2h"),
    # Sensors (物联感知). A reading is not a guess: no confidence threshold. A sensor's "resolved" (the cover is
    # back, the water has gone) verifies where the condition is the reading itself; gas and fire never close on a
    # sensor alone.
    _type("manhole_displaced", "井盖位移", IOT, "1100302", "auto", resolved_verifies=True),
    _type("water_level", "水位超限", IOT, "04004", "auto", resolved_verifies=True, dedupe_window="2h"),
    _type("smoke_detector", "烟感报警", IOT, "22099", "verify_first", dedupe_window="10m"),
    _type("gas_concentration", "燃气浓度超限", IOT, "04003", "auto", dedupe_window="10m", flap_threshold=6),
    _type("electrical_fire", "电气火灾", IOT, "22005", "verify_first", dedupe_window="10m"),
    _type("hydrant_pressure", "消防栓水压异常", IOT, "22004", "verify_first", dedupe_window="1d"),
    # The platform's own alarms about its devices (``devices/offline.py``): a device heard from before and silent
    # longer than the online window. Filed under 其他公用设施 (a public camera or sensor is a public facility) and
    # only recorded by default: the owner department's maintenance list, not a grid worker's case (a city that wants
    # cases sets the policy). The group stays open until the device is heard again (its "resolved" closes it), or
    # 30 days of silence — the longest window a type may have.
    _type("camera_offline", "摄像机离线", VIDEO_AI, "11099", "record_only", dedupe_window="30d"),
    _type("sensor_offline", "传感器离线", IOT, "11099", "record_only", dedupe_window="30d"),
)

CASE_POLICIES: tuple[str, ...] = ("auto", "verify_first", "record_only")
KINDS: tuple[str, ...] = (VIDEO_AI, IOT)


def seed_codes() -> list[str]:
    """The codes of the seeded alarm types, in seed order."""
    return [t["code"] for t in ALARM_TYPES]
