import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gridgov_sensing.adapters.gb28181 import (
    MAX_BYTES,
    GB28181Error,
    UnmappedAlarm,
    alarm_response,
    parse_notify,
)

CAMERA = "44190000001320000001"
NOW = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)  # 10:30 China time


def notify(*, root="Notify", cmd="Alarm", sn="17430", device=CAMERA, priority="2", method="5",
           time="2026-12-02T10:19:14", lon="113.7512", lat="23.0203", desc="南城街道洲源社区 西门口",
           info="<AlarmType>3</AlarmType>", encoding="UTF-8", declaration=True, extra="") -> bytes:
    parts = [f"<{root}>", f"<CmdType>{cmd}</CmdType>" if cmd is not None else "",
             f"<SN>{sn}</SN>" if sn is not None else "",
             f"<DeviceID>{device}</DeviceID>" if device is not None else "",
             f"<AlarmPriority>{priority}</AlarmPriority>" if priority is not None else "",
             f"<AlarmMethod>{method}</AlarmMethod>" if method is not None else "",
             f"<AlarmTime>{time}</AlarmTime>" if time is not None else "",
             f"<Longitude>{lon}</Longitude>" if lon is not None else "",
             f"<Latitude>{lat}</Latitude>" if lat is not None else "",
             f"<AlarmDescription>{desc}</AlarmDescription>", f"<Info>{info}</Info>" if info is not None else "",
             extra, f"</{root}>"]
    head = f'<?xml version="1.0" encoding="{encoding}"?>\r\n' if declaration else ""
    codec = {"GB2312": "gb2312"}.get(encoding, "utf-8")
    return (head + "\r\n".join(parts) + "\r\n").encode(codec)


def field_of(body: bytes, now: datetime | None = None) -> str:
    with pytest.raises(GB28181Error) as err:
        parse_notify(body, now)
    assert err.value.details[0].field == err.value.field
    return err.value.field


def test_parse_video_alarm_left_object_maps_to_piled_materials():
    [alarm] = parse_notify(notify(), NOW)
    assert alarm.device_id == CAMERA
    assert alarm.alarm_type == "piled_materials"
    assert alarm.severity == "major" and alarm.state == "firing"
    assert alarm.occurred_at == datetime(2026, 12, 2, 2, 19, 14, tzinfo=UTC)
    assert alarm.occurred_at.utcoffset() == timedelta(hours=8)
    assert alarm.labels == {"gb_alarm_method": "5", "gb_alarm_type": "3"}
    assert alarm.alarm_id == f"gb28181:{CAMERA}:17430:2026-12-02T10:19:14+08:00"


def test_parse_gb2312_document_with_chinese_text():
    body = notify(encoding="GB2312", desc="东莞市南城街道 暴露垃圾")
    assert "东莞".encode("gb2312") in body
    [alarm] = parse_notify(body, NOW)
    assert alarm.alarm_type == "piled_materials"


def test_parse_gbk_characters_under_gb2312_declaration():
    with pytest.raises(UnicodeEncodeError):
        "镕".encode("gb2312")  # a GBK character outside GB2312, as platforms send under a GB2312 declaration
    body = notify(declaration=False, desc="").replace(b"<AlarmDescription>", "<AlarmDescription>朱镕".encode("gbk"))
    body = b'<?xml version="1.0" encoding="gb2312"?>\n' + body
    assert parse_notify(body, NOW)[0].device_id == CAMERA


def test_parse_without_declaration_is_utf8():
    assert parse_notify(notify(declaration=False), NOW)[0].device_id == CAMERA


def test_parse_ai_algorithm_code_from_event_type():
    info = ("<AlarmType>2</AlarmType><AlarmTypeParam><EventType>exposed_garbage</EventType></AlarmTypeParam>"
            "<Confidence>0.93</Confidence><SnapshotURL>https://vms.example.cn/snap/1.jpg?a=1&amp;b=2</SnapshotURL>")
    [alarm] = parse_notify(notify(info=info, priority="3"), NOW)
    assert alarm.alarm_type == "exposed_garbage" and alarm.confidence == 0.93 and alarm.severity == "minor"
    assert alarm.evidence is not None and alarm.evidence.snapshot_url == "https://vms.example.cn/snap/1.jpg?a=1&b=2"


def test_parse_vendor_alias_and_device_alarm_with_algorithm():
    info = "<EventType>Fire_Smoke</EventType>"
    [alarm] = parse_notify(notify(method="2", info=info, priority="1"), NOW)
    assert alarm.alarm_type == "smoke_fire" and alarm.severity == "critical"
    assert alarm.labels == {"gb_alarm_method": "2"}


def test_parse_density_alarm_is_crowd_gathering():
    assert parse_notify(notify(info="<AlarmType>10</AlarmType>"), NOW)[0].alarm_type == "crowd_gathering"


def test_parse_numeric_event_type_is_the_standard_s_and_maps_nothing_by_itself():
    info = "<AlarmType>6</AlarmType><AlarmTypeParam><EventType>1</EventType></AlarmTypeParam>"
    with pytest.raises(UnmappedAlarm) as err:
        parse_notify(notify(info=info), NOW)
    assert err.value.field == "Info.AlarmType" and err.value.sn == "17430" and err.value.device_id == CAMERA


def test_parse_motion_detection_is_unmapped():
    with pytest.raises(UnmappedAlarm):
        parse_notify(notify(info="<AlarmType>2</AlarmType>"), NOW)


def test_parse_resolved_state_extension():
    info = "<AlarmType>3</AlarmType><AlarmState>resolved</AlarmState>"
    assert parse_notify(notify(info=info), NOW)[0].state == "resolved"


def test_parse_tolerates_lower_case_tags_seen_in_the_field():
    body = notify().replace(b"<CmdType>Alarm</CmdType>", b"<cmdType>Alarm</cmdType>")
    assert parse_notify(body, NOW)[0].device_id == CAMERA


def test_parse_time_with_its_own_offset_or_space_separator():
    [a] = parse_notify(notify(time="2026-12-02T02:19:14Z"), NOW)
    assert a.occurred_at == datetime(2026, 12, 2, 2, 19, 14, tzinfo=UTC)
    [b] = parse_notify(notify(time="2026-12-02 10:19:14.250"), NOW)
    assert b.occurred_at == datetime(2026, 12, 2, 10, 19, 14, 250000, tzinfo=timezone(timedelta(hours=8)))


def test_parse_optional_location_may_be_absent():
    assert parse_notify(notify(lon=None, lat=None), NOW)[0].device_id == CAMERA


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"root": "Response"}, "Notify"),
    ({"cmd": "Catalog"}, "CmdType"),
    ({"cmd": "Keepalive"}, "Status"),  # a keepalive without its Status
    ({"cmd": None}, "CmdType"),
    ({"sn": None}, "SN"),
    ({"sn": "abc"}, "SN"),
    ({"device": None}, "DeviceID"),
    ({"device": "4419000000132000001"}, "DeviceID"),  # 19 digits
    ({"device": "4419000000132000000X"}, "DeviceID"),
    ({"priority": "0"}, "AlarmPriority"),
    ({"priority": "5"}, "AlarmPriority"),
    ({"priority": "high"}, "AlarmPriority"),
    ({"priority": None}, "AlarmPriority"),
    ({"method": "8"}, "AlarmMethod"),
    ({"method": "5.0"}, "AlarmMethod"),
    ({"time": None}, "AlarmTime"),
    ({"time": "2026/12/02 10:19:14"}, "AlarmTime"),
    ({"time": "2026-02-30T10:19:14"}, "AlarmTime"),
    ({"time": "1970-01-01T08:00:00"}, "AlarmTime"),
    ({"time": "2150-01-01T08:00:00"}, "AlarmTime"),
    ({"lon": "east"}, "Longitude"),
    ({"lon": "inf"}, "Longitude"),
    ({"lat": "95"}, "Latitude"),
    ({"info": "<AlarmType>three</AlarmType>"}, "Info.AlarmType"),
    ({"info": "<AlarmType>3</AlarmType><Confidence>1.5</Confidence>"}, "Info.Confidence"),
    ({"info": "<AlarmType>3</AlarmType><Confidence>nan</Confidence>"}, "Info.Confidence"),
    ({"info": "<AlarmType>3</AlarmType><SnapshotURL>javascript:alert(1)</SnapshotURL>"}, "Info.SnapshotURL"),
    ({"info": "<AlarmType>3</AlarmType><AlarmState>cleared</AlarmState>"}, "Info.AlarmState"),
    ({"info": "<EventType>bad code!</EventType>"}, "Info.AlarmTypeParam.EventType"),
    ({"info": None}, "Info.AlarmType"),
])
def test_parse_refuses_naming_the_field(kwargs, field):
    assert field_of(notify(**kwargs), NOW) == field


@pytest.mark.parametrize(("time", "reason"), [("2026-11-24T10:00:00", "7 days"), ("2026-12-02T10:40:00", "future")])
def test_parse_refuses_time_outside_ingest_window(time, reason):
    with pytest.raises(GB28181Error) as err:
        parse_notify(notify(time=time), NOW)
    assert err.value.field == "AlarmTime" and reason in err.value.reason
    assert parse_notify(notify(time=time))  # without now only the year bounds apply


MALFORMED = {
    "unclosed": (b'<?xml version="1.0"?><Notify><CmdType>Alarm</CmdType><SN>1</SN>', "xml"),
    "mismatched": (b"<Notify><CmdType>Alarm</SN></Notify>", "xml"),
    "not xml": (b'{"alarms": []}', "xml"),
    "two roots": (b"<Notify></Notify><Notify></Notify>", "xml"),
    "entity bomb": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><Notify><SN>&lol3;</SN></Notify>', "xml"),
    "doctype": (b'<!DOCTYPE Notify SYSTEM "http://evil.example/x.dtd"><Notify/>', "xml"),
    "external entity": (b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Notify><SN>&x;</SN></Notify>',
                        "xml"),
    "undeclared entity": (b"<Notify><SN>&x;</SN></Notify>", "xml"),
    "nul": (b"<Notify><CmdType>Al\x00arm</CmdType></Notify>", "body"),
    "empty": (b"   ", "body"),
    "bad utf-8": (b"<Notify><AlarmDescription>\xff\xfe</AlarmDescription></Notify>", "encoding"),
    "bad gb2312": (b'<?xml version="1.0" encoding="GB2312"?><Notify><A>\x81</A></Notify>', "encoding"),
    "unknown encoding": (b'<?xml version="1.0" encoding="ISO-8859-15"?><Notify/>', "encoding"),
    "oversize": (b"<Notify><AlarmDescription>" + b"x" * MAX_BYTES + b"</AlarmDescription></Notify>", "body"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_parse_refuses_malformed_documents(case):
    body, field = MALFORMED[case]
    assert field_of(body) == field


def test_error_is_a_validation_error_with_the_field():
    with pytest.raises(GB28181Error) as err:
        parse_notify(notify(priority="9"))
    assert err.value.body()["error"]["details"] == [{"field": "AlarmPriority", "reason": err.value.reason}]


def test_alarm_response_ok_and_error():
    ok = ET.fromstring(alarm_response("17430", CAMERA, True))
    assert [(e.tag, e.text) for e in ok] == [("CmdType", "Alarm"), ("SN", "17430"), ("DeviceID", CAMERA),
                                              ("Result", "OK")]
    assert ET.fromstring(alarm_response("1", CAMERA, False)).find("Result").text == "ERROR"


def test_alarm_response_escapes_and_encodes_gb2312():
    body = alarm_response("<1>", "a&b", False, encoding="GB2312")
    assert body.startswith(b'<?xml version="1.0" encoding="GB2312"?>')
    assert b"&lt;1&gt;" in body and b"a&amp;b" in body
    with pytest.raises(ValueError):
        alarm_response("1", CAMERA, True, encoding="latin-1")


def test_parse_notify_reads_a_keepalive_and_its_status():
    from gridgov_sensing.adapters.gb28181 import Keepalive, parse_notify

    body = (f"<Notify><cmdType>Keepalive</cmdType><SN>43</SN><DeviceID>{CAMERA}</DeviceID>"
            "<Status>ok</Status></Notify>").encode()
    assert parse_notify(body, NOW) == Keepalive(sn="43", device_id=CAMERA, ok=True)
    assert parse_notify(body.replace(b"ok", b"ERROR"), NOW).ok is False
    assert parse_notify(notify(), NOW)[0].device_id == CAMERA  # an alarm Notify reads as with parse_notify
    with pytest.raises(GB28181Error) as err:
        parse_notify(body.replace(b"Keepalive", b"MediaStatus"), NOW)
    assert err.value.field == "CmdType"
