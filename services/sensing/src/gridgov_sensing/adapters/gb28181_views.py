"""``POST /v1/gb28181/notify``: a video platform's GB/T 28181 alarm notification (报警通知) or a camera's keepalive
(保活) over HTTP.

The body is the MANSCDP ``Notify`` XML (``Application/MANSCDP+xml``, or ``text/xml`` / ``application/xml``), as a
platform's SIP gateway passes it on. It is parsed by the pure ``adapters/gb28181.py`` and ingested with
``accept_alarms`` (source ``gb28181``); the answer is the MANSCDP ``Response`` (``Result`` OK) the platform expects.

- Malformed XML or a missing/invalid element → 400 naming the element (``DeviceID``, ``AlarmTime``, …).
- Well-formed but refused by ingest (a camera not in the registry, an alarm type not known, a time outside the
  window) → 422 naming the element the field came from.
- An alarm no alarm type covers (motion detection, tripwire …): ``Result`` OK and nothing stored, so the platform
  does not resend it for ever; the answer says so in ``X-Gridgov-Ignored``.
- A resent Notify (same DeviceID, SN and AlarmTime) is the same alarm: ingest's envelope id makes it count once.
- A ``Keepalive`` with ``Status`` OK records the camera's heartbeat (online for ``online_window_s``); one from a
  camera not registered → 422 naming ``DeviceID``; ``Status`` ERROR records nothing (the camera goes offline when
  its window passes) and is answered OK with ``X-Gridgov-Ignored: Status``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from gridgov_common.errors import DomainError, ErrorDetail, UnsupportedMediaType, ValidationFailed
from gridgov_sensing.adapters.gb28181 import (
    GB28181Error,
    Keepalive,
    UnmappedAlarm,
    alarm_response,
    notify_response,
    parse_notify,
)
from gridgov_sensing.alarms.service import accept_alarms
from gridgov_sensing.deps import DeviceGateway, Runtime
from gridgov_sensing.devices import handlers as devices

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/gb28181", tags=["gb28181"])

SOURCE = "gb28181"
MEDIA_TYPE = "Application/MANSCDP+xml"
ACCEPTED_TYPES = ("application/manscdp+xml", "text/xml", "application/xml")
# Where an ingest field of the one alarm came from in the Notify.
ELEMENT_OF_FIELD = {"device_id": "DeviceID", "alarm_type": "Info.AlarmType", "occurred_at": "AlarmTime",
                    "confidence": "Info.Confidence", "evidence": "Info.SnapshotURL"}
_ALARM_FIELD = re.compile(r"^alarms\[0\]\.(?P<field>[a-z_]+)")


class MalformedNotify(DomainError):
    """A body that is not a GB/T 28181 alarm or keepalive Notify (400), naming the element."""

    def __init__(self, field: str, reason: str):
        super().__init__("invalid GB/T 28181 notification", [ErrorDetail(field, reason)], "invalid_notify",
                         message_zh="GB/T 28181 通知格式错误")


def _element(field: str) -> str:
    """The Notify element an ingest field (``alarms[0].device_id``) came from."""
    m = _ALARM_FIELD.match(field)
    return ELEMENT_OF_FIELD.get(m["field"], "Notify") if m else field


def _xml(body: bytes) -> Response:
    """An XML answer in the platform's media type."""
    return Response(content=body, media_type=MEDIA_TYPE)


@router.post("/notify", response_class=Response, responses={
    200: {"content": {MEDIA_TYPE: {}}, "description": "the MANSCDP Response, Result OK"}})
async def notify(request: Request, runtime: Runtime, _gateway: DeviceGateway) -> Response:
    """Take a GB/T 28181 alarm or keepalive Notify and answer the MANSCDP Response. Who: device_gateway, admin."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in ACCEPTED_TYPES:
        raise UnsupportedMediaType("Content-Type", f"must be {MEDIA_TYPE} (or text/xml), not {media or 'none'}")
    body = await request.body()
    now = datetime.now(UTC)
    try:
        parsed = parse_notify(body, now)
    except UnmappedAlarm as exc:
        log.info("GB/T 28181: alarm of %s ignored: %s", exc.device_id, exc.reason)
        response = _xml(alarm_response(exc.sn, exc.device_id, True))
        response.headers["X-Gridgov-Ignored"] = exc.field
        return response
    except GB28181Error as exc:
        raise MalformedNotify(exc.field, exc.reason) from None
    if isinstance(parsed, Keepalive):
        return await _keepalive(runtime, parsed, now)
    alarms = parsed
    try:
        # The database work off the event loop, as FastAPI runs a plain def route.
        await run_in_threadpool(accept_alarms, runtime.db, alarms, SOURCE, now)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, [ErrorDetail(_element(d.field), d.reason, d.reason_zh)
                                             for d in exc.details]) from None
    # The parser's alarm id is gb28181:<DeviceID>:<SN>:<AlarmTime>: the SN the Response echoes.
    sn = (alarms[0].alarm_id or "::0").split(":", 3)[2]
    return _xml(alarm_response(sn, alarms[0].device_id, True))


async def _keepalive(runtime: Runtime, keepalive: Keepalive, now: datetime) -> Response:
    """Record a camera's keepalive as its heartbeat (Status OK), and answer the Keepalive Response."""
    answer = _xml(notify_response("Keepalive", keepalive.sn, keepalive.device_id, True))
    if not keepalive.ok:
        log.info("GB/T 28181: %s reports Status ERROR; no heartbeat recorded", keepalive.device_id)
        answer.headers["X-Gridgov-Ignored"] = "Status"
        return answer
    recorded = await run_in_threadpool(devices.heartbeats, runtime.db, [keepalive.device_id], now)
    if recorded.unknown_count:
        error = ValidationFailed("keepalive of a device not registered",
                                 [ErrorDetail("DeviceID", "not a registered device", "该设备未登记")])
        error.message_zh = "未登记设备的保活通知"
        raise error
    return answer
