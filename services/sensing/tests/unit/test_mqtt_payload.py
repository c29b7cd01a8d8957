"""What the MQTT adapter reads from a message and a broker URL (no broker, no I/O)."""

from __future__ import annotations

import json

import pytest

from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_sensing.adapters.mqtt import PAYLOAD_MAX, BrokerAddress, PayloadError, describe_refusal, parse_payload

ALARM = {"device_id": "IOT-gas-3", "alarm_type": "gas_concentration", "occurred_at": "2026-12-02T08:00:00+08:00",
         "evidence": {"reading": 23.5, "unit": "%LEL"}, "labels": {"floor": "B1"}}


def test_parse_single_alarm():
    (alarm,) = parse_payload(json.dumps(ALARM).encode())
    assert (alarm.device_id, alarm.alarm_type, alarm.state, alarm.evidence.unit) == (
        "IOT-gas-3", "gas_concentration", "firing", "%LEL")


def test_parse_batch_keeps_order():
    alarms = parse_payload(json.dumps({"alarms": [dict(ALARM, alarm_id=f"x{i}") for i in range(3)]}).encode())
    assert [a.alarm_id for a in alarms] == ["x0", "x1", "x2"]


@pytest.mark.parametrize(("raw", "field", "reason"), [
    (b"\xff\xfe", "payload", "not JSON"),
    (b"[1, 2]", "payload", "must be a JSON object"),
    (b"{}", "device_id", "Field required"),
    (json.dumps(dict(ALARM, occurred_at="2026-12-02T08:00:00")).encode(), "occurred_at", "timezone"),
    (json.dumps({"alarms": []}).encode(), "alarms", "at least 1"),
    (json.dumps({"alarms": [ALARM, dict(ALARM, state="gone")]}).encode(), "alarms[1].state", "firing"),
    (json.dumps(dict(ALARM, evidence={"snapshot_url": "javascript:alert(1)"})).encode(),
     "evidence.snapshot_url", "http(s)"),
    (b" " * (PAYLOAD_MAX + 1), "payload", "larger than"),
])
def test_parse_refuses_naming_the_field(raw, field, reason):
    with pytest.raises(PayloadError) as err:
        parse_payload(raw)
    assert err.value.field == field and reason in err.value.reason


def test_broker_address_from_url():
    assert BrokerAddress.parse("mqtt://127.0.0.1:11883") == BrokerAddress("127.0.0.1", 11883, False)
    assert BrokerAddress.parse("mqtts://gw%40city:p%3Ass@mqtt.example.cn") == BrokerAddress(
        "mqtt.example.cn", 8883, True, "gw@city", "p:ss")
    for bad in ("http://127.0.0.1:1883", "mqtt://", "127.0.0.1:1883"):
        with pytest.raises(ValueError, match="mqtt_url"):
            BrokerAddress.parse(bad)


def test_refusal_reason_names_the_fields():
    exc = ValidationFailed("alarms refused", [ErrorDetail("alarms[0].device_id", "unknown device"),
                                              ErrorDetail("alarms[2].alarm_type", "unknown alarm type")])
    assert describe_refusal(exc) == ("alarms refused: alarms[0].device_id: unknown device; "
                                     "alarms[2].alarm_type: unknown alarm type")
    assert describe_refusal(KeyError("x")) == "KeyError: 'x'"


def test_parse_message_tells_a_round_of_heartbeats_from_alarms():
    from gridgov_sensing.adapters.mqtt import HeartbeatRound, parse_message

    assert parse_message(b'{"device_ids": ["IOT-gas-3", "IOT-gas-4"]}') == HeartbeatRound(["IOT-gas-3", "IOT-gas-4"])
    (alarm,) = parse_message(json.dumps(ALARM).encode())
    assert alarm.device_id == "IOT-gas-3"
    # an alarm whose label happens to say "device_ids" is still an alarm
    (labelled,) = parse_message(json.dumps({**ALARM, "labels": {"note": "device_ids"}}).encode())
    assert labelled.labels == {"note": "device_ids"}


@pytest.mark.parametrize(("raw", "field"), [
    (b'{"device_ids": []}', "device_ids"),
    (b'{"device_ids": ["ok-1", "bad id!"]}', "device_ids[1]"),
    (b'{"device_ids": ["ok-1", 7]}', "device_ids[1]"),
    (b'{"device_ids": "ok-1"}', "device_ids"),
    (b'{"device_ids": ["ok-1"], "alarms": []}', "alarms"),
    (b'{"device_ids": [' + b",".join(b'"d-%d"' % i for i in range(5001)) + b"]}", "device_ids"),
])
def test_a_bad_round_of_heartbeats_names_the_field(raw, field):
    from gridgov_sensing.adapters.mqtt import parse_message

    with pytest.raises(PayloadError) as err:
        parse_message(raw)
    assert err.value.field == field
