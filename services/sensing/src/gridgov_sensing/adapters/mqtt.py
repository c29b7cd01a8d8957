"""The MQTT adapter: sensors (and their gateways) publish alarms to a broker; sensing subscribes and ingests them.

One persistent MQTT 5 session (``clean_start`` false, kept by the broker for ``SESSION_EXPIRY_S``) subscribed at
QoS 1, so alarms published while sensing is down (a restart, a deploy) wait on the broker and arrive when it comes
back. A message is acknowledged (PUBACK, paho's manual ack) only once its effect is stored — the alarms accepted
(``accept``), or the message recorded as rejected with the reason (``reject``: the DLQ) — so a crash in between
gets it redelivered: at least once, as on the bus (an alarm with an ``alarm_id`` is then idempotent).

A payload is one ``AlarmIn`` as JSON, or ``{"alarms": [AlarmIn, …]}``; or a gateway's round of heartbeats,
``{"device_ids": [id, …]}`` (≤ 5,000, as ``POST /v1/devices/heartbeats``), recorded by ``heartbeat`` before
it is acknowledged (ids not registered are logged, not refused: the round is not the gateway's mistake).
Messages are handled by one worker thread, in arrival order, in batches of what has arrived (one ``accept`` per
batch; a batch that is refused is retried one message at a time, so only the culprit is rejected) — as the bus's
consumer loop does. A failure of the infrastructure (database unreachable) is retried without end and
acknowledges nothing; any other failure rejects the message with the reason, and the stream goes on. paho's
network thread reconnects with a growing delay (``RECONNECT_DELAY_S``) while the broker is away; the first
connection is tried the same way, so sensing starts without its broker.
"""

from __future__ import annotations

import json
import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import ValidationError

from gridgov_common.bus.runner import is_transient
from gridgov_common.errors import DomainError
from gridgov_sensing.alarms.schemas import BATCH_MAX, AlarmBatch, AlarmIn
from gridgov_sensing.devices.schemas import HeartbeatBatch

log = logging.getLogger(__name__)

SOURCE = "mqtt"  # the ingest's source of every alarm this adapter accepts
PAYLOAD_MAX = 4 * 1024 * 1024  # bytes of one message; a full batch of 10,000 alarms fits
# The broker keeps the session (subscription + queued messages) this long while sensing is away: 7 days, the
# oldest alarm ingest still accepts.
SESSION_EXPIRY_S = 7 * 24 * 3600
# Unacknowledged messages the broker may have in flight to us (MQTT 5 Receive Maximum): bounds the worker's queue.
RECEIVE_MAX = 500
RECONNECT_DELAY_S = (1, 30)  # paho's reconnect delay: from 1 s, doubling, at most 30 s
RETRY_DELAY_S = (0.2, 10.0)  # the worker's retry of a transient failure: from 0.2 s, doubling, at most 10 s
KEEPALIVE_S = 30

Accept = Callable[[list[AlarmIn], str], None]  # (alarms, source "mqtt"): stores them, all or nothing, or raises
Reject = Callable[[bytes, str], None]  # (the raw payload, why): records it in the DLQ
Heartbeat = Callable[[list[str]], None]  # (device ids): records that they are alive now, or raises


@dataclass(frozen=True)
class HeartbeatRound:
    """A gateway's round of heartbeats: the devices behind it alive now."""

    device_ids: list[str]


class PayloadError(ValueError):
    """A message that is not an alarm: ``field`` names where, ``reason`` why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def field_path(loc: Sequence[Any]) -> str:
    """A pydantic error location as a field path: ``alarms[2].occurred_at``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "payload"


def parse_payload(raw: bytes) -> list[AlarmIn]:
    """The alarms of one MQTT message (one ``AlarmIn`` or ``{"alarms": […]}``); ``PayloadError`` naming the field."""
    if len(raw) > PAYLOAD_MAX:
        raise PayloadError("payload", f"larger than {PAYLOAD_MAX} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError("payload", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("payload", "must be a JSON object (an alarm, or {\"alarms\": [...]})")
    try:
        if "alarms" in data:
            return AlarmBatch.model_validate(data).alarms
        return [AlarmIn.model_validate(data)]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PayloadError(field_path(first["loc"]), first["msg"]) from None


def parse_message(raw: bytes) -> list[AlarmIn] | HeartbeatRound:
    """One MQTT message as its alarms (``parse_payload``) or, with ``device_ids``, a gateway's round of
    heartbeats; ``PayloadError`` naming the field."""
    if len(raw) > PAYLOAD_MAX:
        raise PayloadError("payload", f"larger than {PAYLOAD_MAX} bytes")
    if b'"device_ids"' not in raw:  # no round of heartbeats can lack its key: alarms, parsed once
        return parse_payload(raw)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError("payload", f"not JSON: {exc}") from None
    if not isinstance(data, dict) or "device_ids" not in data:
        return parse_payload(raw)
    try:
        return HeartbeatRound(HeartbeatBatch.model_validate(data).device_ids)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PayloadError(field_path(first["loc"]), first["msg"]) from None


def describe_refusal(exc: BaseException) -> str:
    """Why ingest refused a message, for its DLQ record: the fields and reasons of a domain error."""
    if isinstance(exc, DomainError) and exc.details:
        return f"{exc.message}: " + "; ".join(f"{d.field}: {d.reason}" for d in exc.details)
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker is, from a URL ``mqtt://[user:password@]host[:port]`` (``mqtts://`` for TLS)."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Read a broker URL; ``ValueError`` naming what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"mqtt_url must look like mqtt://host:port or mqtts://host:port, not {url!r}")
        tls = parts.scheme == "mqtts"
        return cls(parts.hostname, parts.port or (8883 if tls else 1883), tls,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


@dataclass(frozen=True)
class _Message:
    """A received message waiting for the worker; ``generation`` is the connection it came on."""

    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes


class _Stopping(Exception):
    """The adapter is stopping: leave the message unacknowledged (the broker keeps it for the next start)."""


class MqttAdapter:
    """Subscribes to the sensors' alarm topic on an MQTT broker and hands each message to ingest (see module doc)."""

    def __init__(self, url: str, topic: str, client_id: str, accept: Accept, reject: Reject, *,
                 heartbeat: Heartbeat | None = None, reconnect_delay_s: tuple[int, int] = RECONNECT_DELAY_S):
        self.address = BrokerAddress.parse(url)
        self.topic = topic
        self.client_id = client_id
        self._accept = accept
        self._reject = reject
        self._heartbeat = heartbeat
        self._reconnect_delay_s = reconnect_delay_s
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        # Bumped at every connect and disconnect: a message of an older connection is not acknowledged (its
        # packet id means nothing on the new one); the broker redelivers it on the resumed session instead.
        self._generation = 0
        self._subscribed = False
        self._client: paho.Client | None = None
        self._worker: threading.Thread | None = None
        self.accepted = 0  # messages whose alarms were accepted
        self.heartbeats = 0  # rounds of heartbeats recorded
        self.rejected = 0  # messages recorded as rejected
        self.connects = 0  # successful connections (the first, then every reconnect)

    @property
    def connected(self) -> bool:
        """Connected to the broker and subscribed (what ``/readyz`` reports)."""
        client = self._client
        return bool(client is not None and client.is_connected() and self._subscribed)

    def start(self) -> None:
        """Connect (in the background, retrying while the broker is away) and start handling messages."""
        if self._client is not None:
            return
        self._stopping.clear()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             protocol=paho.MQTTv5, manual_ack=True)
        if self.address.username is not None:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set_context(ssl.create_default_context())
        client.reconnect_delay_set(*self._reconnect_delay_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = RECEIVE_MAX
        client.connect_async(self.address.host, self.address.port, keepalive=KEEPALIVE_S, clean_start=False,
                             properties=props)
        self._client = client
        self._worker = threading.Thread(target=self._work, name="sensing-mqtt-worker", daemon=True)
        self._worker.start()
        client.loop_start()
        log.info("MQTT: subscribing to %s on %s:%d as %s", self.topic, self.address.host, self.address.port,
                 self.client_id)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand, then disconnect; what is not acknowledged stays on the broker's session."""
        client = self._client
        if client is None:
            return
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(timeout)
        # A normal DISCONNECT keeps the session for SESSION_EXPIRY_S (clean_start false on the next connect).
        client.disconnect()
        client.loop_stop()
        self._client = None
        self._worker = None
        self._subscribed = False
        with self._lock:
            self._generation += 1
        self._queue = queue.Queue()

    # --- paho's network thread ---------------------------------------------------------------------------------

    def _on_connect(self, client: paho.Client, _userdata: Any, flags: Any, reason: Any, _props: Any) -> None:
        """Subscribe at QoS 1 on every connection (harmless when the broker resumed the session)."""
        if reason.is_failure:
            log.warning("MQTT: connection to %s:%d refused: %s", self.address.host, self.address.port, reason)
            return
        with self._lock:
            self._generation += 1
        self.connects += 1
        log.info("MQTT: connected to %s:%d (session %s)", self.address.host, self.address.port,
                 "resumed" if flags.session_present else "new")
        client.subscribe(self.topic, options=SubscribeOptions(qos=1))

    def _on_subscribe(self, _client: paho.Client, _userdata: Any, _mid: int, reasons: list[Any], _props: Any) -> None:
        """Ready once the broker granted the subscription."""
        failed = [r for r in reasons if r.is_failure]
        if failed:
            log.error("MQTT: subscription to %s refused: %s", self.topic, failed)
        self._subscribed = not failed

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        """Forget the connection: the messages in hand will come again on the resumed session."""
        self._subscribed = False
        with self._lock:
            self._generation += 1
        if not self._stopping.is_set():
            log.warning("MQTT: disconnected from %s:%d (%s); reconnecting", self.address.host, self.address.port,
                        reason)

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        """Hand the message to the worker (never block the network thread: it also answers the keepalive)."""
        self._queue.put(_Message(self._generation, message.mid, message.qos, message.topic, bytes(message.payload)))

    # --- the worker ----------------------------------------------------------------------------------------------

    def _work(self) -> None:
        """Take what has arrived, in order, and handle it as one batch, until stopped."""
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < RECEIVE_MAX:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._handle(batch)
            except _Stopping:
                return
            except Exception:  # noqa: BLE001 - the worker must outlive any one batch; the messages come again
                log.exception("MQTT: a batch of %d messages failed; they stay unacknowledged", len(batch))

    def _handle(self, batch: list[_Message]) -> None:
        """Parse each message; reject what is neither alarms nor heartbeats; record the rounds of heartbeats; accept
        the alarms together (split if refused)."""
        current = [m for m in batch if m.generation == self._generation]  # the others come again from the broker
        parsed: list[tuple[_Message, list[AlarmIn]]] = []
        for message in current:
            try:
                found = parse_message(message.payload)
            except PayloadError as exc:
                self._refuse(message, str(exc))
                continue
            if isinstance(found, HeartbeatRound):
                self._record(message, found)
            else:
                parsed.append((message, found))
        if parsed:
            self._accept_all(parsed)

    def _record(self, message: _Message, heartbeats: HeartbeatRound) -> None:
        """Record a round of heartbeats, then acknowledge it (refused when this adapter takes none)."""
        record = self._heartbeat
        if record is None:
            self._refuse(message, "device_ids: heartbeats are not taken on this subscription")
            return
        try:
            self._retrying(lambda: record(heartbeats.device_ids))
        except _Stopping:
            raise
        except Exception as exc:  # noqa: BLE001 - not transient: the round is refused, the stream goes on
            self._refuse(message, describe_refusal(exc))
            return
        self._ack(message)
        self.heartbeats += 1

    def _accept_all(self, parsed: list[tuple[_Message, list[AlarmIn]]]) -> None:
        """One ``accept`` for the lot; refused, each message on its own, so only the culprit is rejected."""
        alarms = [alarm for _, alarms in parsed for alarm in alarms]
        if len(parsed) > 1 and len(alarms) > BATCH_MAX:  # one message holds at most BATCH_MAX (AlarmBatch)
            for one in parsed:
                self._accept_all([one])
            return
        try:
            self._retrying(lambda: self._accept(alarms, SOURCE))
        except _Stopping:
            raise
        except Exception as exc:  # noqa: BLE001 - not transient: this message (or one of the lot) is refused
            if len(parsed) == 1:
                self._refuse(parsed[0][0], describe_refusal(exc))
                return
            for one in parsed:
                self._accept_all([one])
            return
        for message, _ in parsed:
            self._ack(message)
        self.accepted += len(parsed)

    def _refuse(self, message: _Message, reason: str) -> None:
        """Record the message in the DLQ with the reason, then acknowledge it: the stream goes on."""
        log.warning("MQTT: message on %s rejected: %s", message.topic, reason)
        self._retrying(lambda: self._reject(message.payload, reason))
        self._ack(message)
        self.rejected += 1

    def _retrying(self, effect: Callable[[], None]) -> None:
        """Run an effect, retrying an infrastructure failure with a growing delay until it passes or we stop."""
        delay, cap = RETRY_DELAY_S
        while True:
            try:
                effect()
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("MQTT: transient failure, retrying in %.1f s: %s", delay, exc)
            if self._stopping.wait(delay):
                raise _Stopping()
            delay = min(delay * 2, cap)

    def _ack(self, message: _Message) -> None:
        """PUBACK the message, unless its connection is gone (then the broker redelivers it: at least once)."""
        client = self._client
        with self._lock:
            if client is None or message.generation != self._generation:
                return
            client.ack(message.mid, message.qos)


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (for start-up checks and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
