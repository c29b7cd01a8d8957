"""The MQTT adapter against a real broker (Mosquitto, provisioned by deploy/local/mosquitto.sh): persistent session,
acknowledgement after the effect, rejection of what is not an alarm, reconnection.

Skipped loudly without ``GRIDGOV_TEST_MQTT_URL`` (``make test`` sets it), failed under ``GRIDGOV_REQUIRE_INFRA=1``.
Every test uses its own topic and client id, and drops its session on the broker afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime

import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.exc import OperationalError

from conftest import require_infra
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_sensing.adapters.mqtt import MqttAdapter, wait_until

TIMEOUT = 10.0  # seconds any one expected effect may take


@pytest.fixture
def broker_url() -> str:
    """The broker's URL (mqtt://127.0.0.1:11883 from scripts/test.sh)."""
    return require_infra("GRIDGOV_TEST_MQTT_URL", "Mosquitto (MQTT broker)")


@pytest.fixture
def channel(broker_url):
    """A topic root and a client id of this test's own; the broker forgets the session afterwards."""
    tag = uuid.uuid4().hex[:10]
    root, client_id = f"gridgov-test/{tag}/alarms", f"gridgov-sensing-test-{tag}"
    yield root, client_id
    forget_session(broker_url, client_id)


def _client(url: str, client_id: str = "") -> paho.Client:
    host, port = url.removeprefix("mqtt://").rsplit(":", 1)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.connect(host, int(port), keepalive=10)
    client.loop_start()
    return client


def publish(url: str, topic: str, payloads: list[bytes]) -> None:
    """Publish each payload at QoS 1 and wait for the broker's PUBACK, in order."""
    client = _client(url)
    try:
        for payload in payloads:
            client.publish(topic, payload, qos=1).wait_for_publish(TIMEOUT)
    finally:
        client.disconnect()
        client.loop_stop()


def forget_session(url: str, client_id: str) -> None:
    """Connect with a clean start and no session expiry, so the broker drops the test's session."""
    host, port = url.removeprefix("mqtt://").rsplit(":", 1)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    client.connect(host, int(port), clean_start=True, properties=props)
    client.loop_start()
    wait_until(client.is_connected, TIMEOUT)
    client.disconnect()
    client.loop_stop()


def alarm(n: int, device: str = "IOT-manhole-1") -> bytes:
    """An alarm's JSON with alarm id ``a-<n>``."""
    occurred = datetime.now(UTC).isoformat()
    return (f'{{"alarm_id": "a-{n}", "device_id": "{device}", "alarm_type": "manhole_displaced", '
            f'"occurred_at": "{occurred}", "evidence": {{"reading": 12.5, "unit": "mm"}}}}').encode()


class Ingest:
    """Stands in for sensing's ingest: records what is accepted and rejected; can fail on purpose."""

    def __init__(self, transient_failures: int = 0, unknown_devices: frozenset[str] = frozenset()):
        self.accepted: list[str] = []
        self.batches = 0
        self.rejected: list[tuple[bytes, str]] = []
        self.attempts = 0
        self.transient_failures = transient_failures
        self.unknown_devices = unknown_devices
        self._lock = threading.Lock()

    def accept(self, alarms, source):
        with self._lock:
            self.attempts += 1
            assert source == "mqtt"
            if self.attempts <= self.transient_failures:
                raise OperationalError("INSERT ...", {}, ConnectionRefusedError("database is restarting"))
            bad = [ErrorDetail(f"alarms[{i}].device_id", "unknown device")
                   for i, a in enumerate(alarms) if a.device_id in self.unknown_devices]
            if bad:
                raise ValidationFailed("alarms refused", bad)
            self.batches += 1
            self.accepted.extend(a.alarm_id for a in alarms)

    def reject(self, raw, reason):
        with self._lock:
            self.rejected.append((raw, reason))


def adapter(url: str, channel: tuple[str, str], ingest: Ingest, **kw) -> MqttAdapter:
    """A started adapter on the test's channel, connected and subscribed."""
    root, client_id = channel
    a = MqttAdapter(url, f"{root}/#", client_id, ingest.accept, ingest.reject, **kw)
    a.start()
    assert wait_until(lambda: a.connected, TIMEOUT), "adapter did not connect and subscribe"
    return a


def test_alarms_published_while_adapter_stopped_arrive_after_start(broker_url, channel):
    root, _ = channel
    first = Ingest()
    a = adapter(broker_url, channel, first)  # the broker now holds the session and its subscription
    a.stop()
    publish(broker_url, f"{root}/gw-1", [alarm(1), alarm(2), alarm(3)])
    assert first.accepted == []

    later = Ingest()
    b = adapter(broker_url, channel, later)
    try:
        assert wait_until(lambda: len(later.accepted) == 3, TIMEOUT), later.accepted
        assert later.accepted == ["a-1", "a-2", "a-3"]  # in publication order
        assert later.rejected == []
    finally:
        b.stop()


def test_bad_payload_rejected_and_next_good_one_accepted(broker_url, channel):
    root, _ = channel
    ingest = Ingest(unknown_devices=frozenset({"IOT-ghost-9"}))
    a = adapter(broker_url, channel, ingest)
    try:
        publish(broker_url, f"{root}/gw-1", [
            b"{not json",
            b'{"device_id": "IOT-manhole-1", "occurred_at": "2026-12-02T08:00:00+08:00"}',
            alarm(7, device="IOT-ghost-9"),
            alarm(8),
        ])
        # the adapter counts a message after the ingest has taken it: wait for its counts to cover all four too
        assert wait_until(lambda: len(ingest.rejected) == 3 and ingest.accepted == ["a-8"]
                          and a.accepted + a.rejected == 4, TIMEOUT), (ingest.rejected, ingest.accepted)
        (raw0, why0), (raw1, why1), (raw2, why2) = ingest.rejected
        assert raw0 == b"{not json" and why0.startswith("payload: not JSON")
        assert b"IOT-manhole-1" in raw1 and why1.startswith("alarm_type: ")
        assert b'"a-7"' in raw2 and "alarms[0].device_id: unknown device" in why2
        assert (a.accepted, a.rejected) == (1, 3)
    finally:
        a.stop()


def test_batch_payload_accepted_as_one(broker_url, channel):
    root, _ = channel
    ingest = Ingest()
    a = adapter(broker_url, channel, ingest)
    try:
        batch = b'{"alarms": [' + b",".join(alarm(n) for n in range(10, 15)) + b"]}"
        publish(broker_url, f"{root}/gw-2", [batch])
        assert wait_until(lambda: len(ingest.accepted) == 5, TIMEOUT)
        assert ingest.accepted == [f"a-{n}" for n in range(10, 15)] and ingest.batches == 1
    finally:
        a.stop()


def test_message_not_acknowledged_before_accept_is_redelivered_after_restart(broker_url, channel):
    root, _ = channel
    down = Ingest(transient_failures=10**6)  # the database never answers while this process runs
    a = adapter(broker_url, channel, down)
    publish(broker_url, f"{root}/gw-1", [alarm(21)])
    assert wait_until(lambda: down.attempts >= 2, TIMEOUT)  # tried, and retried: a transient failure
    a.stop()  # as a crash would: nothing acknowledged
    assert down.accepted == [] and down.rejected == []

    up = Ingest()
    b = adapter(broker_url, channel, up)
    try:
        assert wait_until(lambda: up.accepted == ["a-21"], TIMEOUT), up.accepted
    finally:
        b.stop()
    # Acknowledged this time: a third start gets nothing more.
    again = Ingest()
    c = adapter(broker_url, channel, again)
    try:
        time.sleep(1.0)
        assert again.attempts == 0
    finally:
        c.stop()


def test_transient_failure_retried_until_accepted(broker_url, channel):
    root, _ = channel
    ingest = Ingest(transient_failures=2)
    a = adapter(broker_url, channel, ingest)
    try:
        publish(broker_url, f"{root}/gw-1", [alarm(31)])
        assert wait_until(lambda: ingest.accepted == ["a-31"], TIMEOUT)
        assert ingest.attempts == 3 and ingest.rejected == []
    finally:
        a.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _private_broker(tmp_path, port: int) -> subprocess.Popen:
    """A mosquitto of this test's own on ``port`` (so it can be stopped without disturbing anyone)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type error\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_until(lambda: _port_open(port), TIMEOUT), "private mosquitto did not start"
    return proc


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_adapter_connects_when_broker_comes_and_reconnects_after_it_restarts(broker_url, tmp_path):
    if not (shutil.which("mosquitto") or os.path.exists("/usr/sbin/mosquitto")):
        pytest.fail("GRIDGOV_TEST_MQTT_URL is set but the mosquitto binary is missing")
    port = _free_port()
    url = f"mqtt://127.0.0.1:{port}"
    ingest = Ingest()
    a = MqttAdapter(url, "gridgov-test/alarms/#", "gridgov-sensing-reconnect", ingest.accept, ingest.reject,
                    reconnect_delay_s=(1, 2))
    a.start()  # no broker yet: start does not fail, the adapter keeps trying
    broker = None
    try:
        time.sleep(0.5)
        assert not a.connected
        broker = _private_broker(tmp_path, port)
        assert wait_until(lambda: a.connected, TIMEOUT)
        publish(url, "gridgov-test/alarms/gw", [alarm(41)])
        assert wait_until(lambda: ingest.accepted == ["a-41"], TIMEOUT)

        broker.terminate()
        broker.wait(TIMEOUT)
        assert wait_until(lambda: not a.connected, TIMEOUT)
        broker = _private_broker(tmp_path, port)  # a new broker without the old session: subscribe again
        assert wait_until(lambda: a.connected, TIMEOUT)
        publish(url, "gridgov-test/alarms/gw", [alarm(42)])
        assert wait_until(lambda: ingest.accepted == ["a-41", "a-42"], TIMEOUT)
        assert a.connects == 2
    finally:
        a.stop()
        if broker is not None:
            broker.terminate()
            broker.wait(TIMEOUT)


def test_adapter_without_broker_starts_not_ready_and_stops_promptly():
    ingest = Ingest()
    a = MqttAdapter(f"mqtt://127.0.0.1:{_free_port()}", "gridgov-test/alarms/#", "gridgov-sensing-nobroker",
                    ingest.accept, ingest.reject)
    a.start()
    time.sleep(0.5)
    assert not a.connected
    started = time.monotonic()
    a.stop()
    assert time.monotonic() - started < 5


class Beats:
    """Stands in for sensing's heartbeat store: records each round; can fail on purpose."""

    def __init__(self, transient_failures: int = 0, refuse: bool = False):
        self.rounds: list[list[str]] = []
        self.attempts = 0
        self.transient_failures = transient_failures
        self.refuse = refuse

    def __call__(self, device_ids):
        self.attempts += 1
        if self.attempts <= self.transient_failures:
            raise OperationalError("UPDATE ...", {}, ConnectionRefusedError("database is restarting"))
        if self.refuse:
            raise ValidationFailed("round refused", [ErrorDetail("device_ids", "not today")])
        self.rounds.append(list(device_ids))


def test_a_round_of_heartbeats_is_recorded_between_alarms_and_retried_while_the_database_is_away(broker_url,
                                                                                                   channel):
    root, _ = channel
    ingest, beats = Ingest(), Beats(transient_failures=2)
    a = adapter(broker_url, channel, ingest, heartbeat=beats)
    try:
        publish(broker_url, f"{root}/gw-1", [alarm(41), b'{"device_ids": ["IOT-manhole-1", "IOT-gas-2"]}',
                                             alarm(42), b'{"device_ids": ["IOT-manhole-1", "bad id!"]}'])
        # the adapter counts a message after the ingest or the heartbeat store has taken it: wait for its counts to
        # cover all four messages too (asserting them at once raced its thread)
        assert wait_until(lambda: ingest.accepted == ["a-41", "a-42"] and beats.rounds and ingest.rejected
                          and a.accepted + a.heartbeats + a.rejected == 4, TIMEOUT), (
            ingest.accepted, beats.rounds, ingest.rejected)
        assert beats.rounds == [["IOT-manhole-1", "IOT-gas-2"]] and beats.attempts == 3
        ((raw, why),) = ingest.rejected
        assert b"bad id!" in raw and why.startswith("device_ids[1]: ")
        assert (a.accepted, a.heartbeats, a.rejected) == (2, 1, 1)
    finally:
        a.stop()


def test_a_round_refused_or_not_taken_goes_to_the_dlq_and_the_stream_goes_on(broker_url, channel):
    root, _ = channel
    ingest = Ingest()
    a = adapter(broker_url, channel, ingest)  # no heartbeat store: this subscription takes alarms only
    try:
        publish(broker_url, f"{root}/gw-1", [b'{"device_ids": ["IOT-manhole-1"]}', alarm(51)])
        assert wait_until(lambda: ingest.accepted == ["a-51"] and ingest.rejected, TIMEOUT)
        assert ingest.rejected[0][1] == "device_ids: heartbeats are not taken on this subscription"
    finally:
        a.stop()
    refusing = Ingest()
    b = adapter(broker_url, channel, refusing, heartbeat=Beats(refuse=True))
    try:
        publish(broker_url, f"{root}/gw-1", [b'{"device_ids": ["IOT-manhole-1"]}', alarm(52)])
        assert wait_until(lambda: refusing.accepted == ["a-52"] and refusing.rejected, TIMEOUT)
        assert refusing.rejected[0][1] == "round refused: device_ids: not today"
    finally:
        b.stop()
