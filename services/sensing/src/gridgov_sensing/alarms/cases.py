"""The case an alarm group becomes: a ``report.received`` on the intake topic, as any channel's report.

The report id is derived from the group's id (uuid5), so a redelivered alarm or a repeated decision can only ever
name one report; the channel is the alarm type's kind (``video_ai`` | ``iot``), the reporter the device (or the
grid worker who confirmed it), the position and address the device's.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.events.reports import REPORT_RECEIVED, ReportReceived
from gridgov_sensing.alarms.directory import DeviceFacts, TypeFacts

SERVICE = "sensing"
_NAMESPACE = uuid.UUID("b3f04c6e-1d2a-4e7b-9c58-7a0e6d1f2b93")
CHANNEL_TEXT = {"video_ai": "视频AI识别", "iot": "物联感知"}
DEVICE_TEXT = {"camera": "摄像机", "sensor": "传感器"}


def report_id_of(group_id: str) -> str:
    """The report id of a group's case (one per group, whatever is delivered twice)."""
    return str(uuid.uuid5(_NAMESPACE, group_id))


def description(kind: TypeFacts, device_id: str, device_kind: str, confidence: float | None,
                evidence: dict[str, Any] | None, confirmed: bool) -> str:
    """The case's text in Chinese, e.g. 视频AI识别：暴露垃圾（摄像机 …，置信度 0.93）."""
    facts = [f"{DEVICE_TEXT.get(device_kind, '设备')} {device_id}"]
    if confidence is not None:
        facts.append(f"置信度 {confidence:.2f}")
    if evidence and evidence.get("reading") is not None:
        facts.append(f"读数 {evidence['reading']:g}{(' ' + evidence['unit']) if evidence.get('unit') else ''}")
    text = f"{CHANNEL_TEXT.get(kind.kind, '感知告警')}：{kind.name_zh}（{'，'.join(facts)}）"
    if evidence and evidence.get("snapshot_url"):
        text += f"；抓拍 {evidence['snapshot_url']}"
    if confirmed:
        text += "；网格员核实确认"
    return text


def report_payload(*, report_id: str, kind: TypeFacts, device: DeviceFacts | None, device_id: str,
                   device_kind: str, lon: float | None, lat: float | None, confidence: float | None,
                   evidence: dict[str, Any] | None, reporter_id: str, reporter_role: str,
                   submitted_at: datetime, confirmed: bool = False) -> dict[str, Any]:
    """The ``report.received`` payload of a case, as a dict (validated by ``report_envelope``)."""
    return {"report_id": report_id, "channel": kind.kind, "category_code": kind.catalog_code,
            "description": description(kind, device_id, device_kind, confidence, evidence, confirmed),
            "lon": lon, "lat": lat, "reporter_id": reporter_id, "reporter_role": reporter_role,
            "submitted_at": submitted_at, "address": device.name if device is not None else None}


def report_envelope(payload: dict[str, Any], causation_id: str | None = None) -> Envelope:
    """The ``report.received`` envelope (key and correlation: the report id)."""
    report = ReportReceived.model_validate(payload)
    return new_envelope(type=REPORT_RECEIVED, producer=SERVICE, key=report.report_id, payload=report,
                        correlation_id=report.report_id, causation_id=causation_id)

