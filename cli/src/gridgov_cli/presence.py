"""The demo city's devices alive: ``gridgov up`` plays the gateway of its demo cameras and sensors.

A city's devices tell sensing they are alive through their video platform or IoT gateway (a GB/T 28181 Keepalive,
or a round of ``POST /v1/devices/heartbeats`` for the devices behind a gateway); a device not heard from within
sensing's online window (5 minutes) is offline. The demo city has no real devices, so ``gridgov up`` sends what
their gateway would:

- **Heartbeats**, every ``GRIDGOV_DEMO_PRESENCE_S`` seconds (60 by default; 0 turns the gateway off), one request
  per 5,000 demo devices. Not for all of them: every device of one village is down (a cut fibre) and ~1.5 %
  elsewhere (a broken camera here and there), chosen once by seed, so the map and its counts show what a city's
  command centre sees — mostly online, one dark patch, scattered grey — rather than 20,000 devices never heard from.
  The dark village's devices are heard once, on the data directory's first start (``FIBRE_CUT`` marks it done),
  and then fall silent: sensing raises their offline alarms (摄像机离线 / 传感器离线) once it has been up five
  minutes, a cluster of record-only groups over one village. The scattered ones were never heard: no alarm.
- **Alarms**, ``GRIDGOV_DEMO_ALARMS_PER_MIN`` a minute (1 by default; 0: none) through ``POST /v1/alarms``, as the
  video-AI platform and the IoT gateway forward them: most from a few noisy cameras (Zipf-weighted, each always the
  same algorithm, so their repeats gather in one alarm group), the rest from any online device running that
  algorithm; now and then a noisy camera's problem clears (``resolved``). Sensing then does with them what it does
  with a city's: suppression, grouping, a case and a ticket for the ``auto`` types, a 核实 task for the
  ``verify_first`` ones. No snapshot URL: nothing at run time may point outside the machine. On the data
  directory's first start the gateway first forwards the last two hours' alarms at that rate (``ALARMS_PLAYED``
  marks it done), so the page opens on the open groups of a working city rather than on an empty list.

Only the demo devices are played (listed in ``DEMO_LIST`` when ``gridgov up`` placed them): a device an
administrator registers stays offline and silent until its own gateway reports it.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from gridgov_sensing.devices.schemas import HEARTBEATS_MAX

DEMO_LIST = "sensing-demo-devices.tsv"  # in the data directory: id, kind, village code, algorithms (a,b); tabs
ROUND = HEARTBEATS_MAX  # devices per request: POST /v1/devices/heartbeats takes at most this many
SCATTERED_DOWN = 0.015
DEFAULT_INTERVAL_S = 60.0
# Nobody works the demo's cases, so each one stays open in a department's queue: a first start's 120 alarms opened
# 25 cases (the noisy cameras' repeats join their open groups, a floor holds the unsure back), so this rate adds
# ~0.2 a minute, ~300 a day beside the history's 2,400 reports a day.
DEFAULT_ALARMS_PER_MIN = 1.0
ALARMS_PLAYED = "sensing-demo-alarms.json"  # in the data directory once the first start's backfill was sent
FIBRE_CUT = "sensing-demo-fibre-cut.json"  # in the data directory once the dark village was heard its last time
BACKFILL_S = 7200.0
BACKFILL_MAX = 500  # alarms, whatever the rate
NOISY = 30  # cameras that raise most of the alarms
NOISY_SHARE = 0.6
RESOLVED_SHARE = 0.1  # of a noisy camera's alarms: its problem cleared
SERIOUS = {"smoke_fire", "smoke_detector", "gas_concentration", "electrical_fire", "fire_lane_blocked"}


@dataclass(frozen=True)
class DemoDevice:
    """A demo device as listed: its id, kind (camera or sensor), village and the alarm types it raises."""

    device_id: str
    kind: str
    village: str
    algorithms: tuple[str, ...]


def write_demo_list(data_dir: Path, devices: Iterable[DemoDevice]) -> Path:
    """List the demo devices in the data directory (written whole, then renamed into place)."""
    path = data_dir / DEMO_LIST
    part = path.with_suffix(".part")
    part.write_text("".join(f"{d.device_id}\t{d.kind}\t{d.village}\t{','.join(d.algorithms)}\n" for d in devices),
                    encoding="utf-8")
    part.replace(path)
    return path


def read_demo_list(data_dir: Path) -> list[DemoDevice]:
    """The demo devices listed in the data directory (none when they were not placed by ``gridgov up``)."""
    path = data_dir / DEMO_LIST
    if not path.exists():
        return []
    rows = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line)
    return [DemoDevice(row[0], row[1], row[2], tuple(a for a in row[3].split(",") if a))
            for row in rows if len(row) == 4]


def down_devices(devices: Sequence[DemoDevice], seed: int = 16,
                 scattered: float = SCATTERED_DOWN) -> tuple[set[str], str | None]:
    """The demo devices that stay silent and the village that is dark: all of one village with at least ten
    devices (picked by ``seed``) and a ``scattered`` share of the others; the same for the same list and seed."""
    rng = random.Random(seed)
    by_village: dict[str, list[str]] = defaultdict(list)
    for d in devices:
        by_village[d.village].append(d.device_id)
    candidates = sorted(v for v, ids in by_village.items() if len(ids) >= 10)
    dark = rng.choice(candidates) if candidates else None
    down = set(by_village.get(dark, ())) if dark else set()
    for d in sorted(devices, key=lambda d: d.device_id):
        if d.village != dark and rng.random() < scattered:
            down.add(d.device_id)
    return down, dark


class AlarmFeed:
    """The demo's alarms, drawn from the online devices: most from ``NOISY`` cameras (Zipf-weighted, each with one
    algorithm of its own), the rest from any device; a noisy camera's problem sometimes clears."""

    def __init__(self, online: Sequence[DemoDevice], rng: random.Random):
        self.rng = rng
        raising = [d for d in online if d.algorithms]
        cameras = [d for d in raising if d.kind == "camera"]
        noisy = rng.sample(cameras, min(NOISY, len(cameras)))
        self.noisy = [(d, rng.choice(d.algorithms)) for d in noisy]
        self.weights = [1.0 / (rank + 1) for rank in range(len(self.noisy))]
        self.anyone = raising
        self.serial = 0
        self.started = int(time.time())

    def draw(self, now: datetime) -> dict[str, Any] | None:
        """One alarm as ``POST /v1/alarms`` takes it (None when no online device raises any)."""
        if not self.anyone:
            return None
        state = "firing"
        if self.noisy and self.rng.random() < NOISY_SHARE:
            device, alarm_type = self.rng.choices(self.noisy, self.weights)[0]
            if self.rng.random() < RESOLVED_SHARE:
                state = "resolved"
        else:
            device = self.rng.choice(self.anyone)
            alarm_type = self.rng.choice(device.algorithms)
        self.serial += 1
        alarm: dict[str, Any] = {
            "alarm_id": f"demo-{self.started}-{self.serial}", "device_id": device.device_id,
            "alarm_type": alarm_type, "state": state, "occurred_at": now.isoformat(),
            "severity": "major" if alarm_type in SERIOUS else "minor"}
        if device.kind == "camera":  # a camera's algorithm says how sure it is
            alarm["confidence"] = round(self.rng.uniform(0.62, 0.99), 2)
        return alarm


def backfill_alarms(feed: AlarmFeed, now: datetime, per_min: float) -> list[dict[str, Any]]:
    """The alarms of the ``BACKFILL_S`` before ``now`` at ``per_min`` a minute (at most ``BACKFILL_MAX``), oldest
    first."""
    n = min(BACKFILL_MAX, round(per_min * BACKFILL_S / 60.0))
    moments = sorted(now - timedelta(seconds=feed.rng.uniform(0.0, BACKFILL_S)) for _ in range(n))
    return [alarm for at in moments if (alarm := feed.draw(at)) is not None]


class Gateway:
    """Sends the demo devices' heartbeats (``ROUND`` devices per request) and alarms to sensing."""

    def __init__(self, client: httpx.Client, alive: Sequence[str], token: Callable[[], str]):
        self.client = client
        self.alive = list(alive)
        self.token = token
        self.failures = 0

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            resp = self.client.post(path, json=body, headers={"Authorization": f"Bearer {self.token()}"})
            resp.raise_for_status()
        except httpx.HTTPError:
            # sensing restarting, or stopping with the stack: the next round tells it again, as a gateway would
            self.failures += 1
            return None
        return resp.json()

    def beat(self) -> int:
        """One round for every alive device; how many sensing recorded (0 for a request it did not answer)."""
        recorded = 0
        for start in range(0, len(self.alive), ROUND):
            answer = self._post("/v1/devices/heartbeats", {"device_ids": self.alive[start:start + ROUND]})
            recorded += answer["recorded"] if answer else 0
        return recorded

    def send(self, alarms: list[dict[str, Any]]) -> bool:
        """Forward alarms; whether sensing accepted them."""
        return bool(alarms) and self._post("/v1/alarms", {"alarms": alarms}) is not None


def start_presence(data_dir: Path, sensing_url: str, secret: str, interval_s: float = DEFAULT_INTERVAL_S,
                   alarms_per_min: float = DEFAULT_ALARMS_PER_MIN) -> threading.Thread | None:
    """Play the demo devices' gateway in a daemon thread: heartbeats at once and then every ``interval_s``, and
    ``alarms_per_min`` alarms a minute; None when there is nothing to play (no demo devices listed, or
    ``interval_s`` 0)."""
    from gridgov_common.auth import mint_token

    devices = read_demo_list(data_dir)
    if interval_s <= 0 or not devices:
        return None
    down, dark = down_devices(devices)
    online = [d for d in devices if d.device_id not in down]
    client = httpx.Client(base_url=sensing_url.rstrip("/"), timeout=30.0)
    gateway = Gateway(client, [d.device_id for d in online],
                      lambda: mint_token(secret, sub="demo-gateway", role="device_gateway", ttl_seconds=3600))
    feed = AlarmFeed(online, random.Random())
    alarm_every = 60.0 / alarms_per_min if alarms_per_min > 0 else None

    def backfill() -> None:
        """The first start's last two hours of alarms, once the devices are online (after the first heartbeats)."""
        marker = data_dir / ALARMS_PLAYED
        if alarm_every is None or marker.exists():
            return
        alarms = backfill_alarms(feed, datetime.now(UTC), alarms_per_min)
        if all(gateway.send(alarms[i:i + 1000]) for i in range(0, len(alarms), 1000)):
            marker.write_text(json.dumps({"alarms": len(alarms), "at": datetime.now(UTC).isoformat()}))

    def cut_fibre() -> None:
        """On the first start, the dark village's devices heard once (then never again: the fibre is cut)."""
        marker = data_dir / FIBRE_CUT
        in_dark = [d.device_id for d in devices if d.village == dark]
        if not in_dark or marker.exists():
            return
        last = Gateway(client, in_dark, gateway.token)
        if last.beat() == len(in_dark):
            marker.write_text(json.dumps({"village": dark, "devices": len(in_dark),
                                          "at": datetime.now(UTC).isoformat()}))

    def run() -> None:
        gateway.beat()
        cut_fibre()
        backfill()
        next_beat = time.monotonic() + interval_s
        next_alarm = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= next_beat:
                gateway.beat()
                next_beat = now + interval_s
            if alarm_every is not None and now >= next_alarm:
                alarm = feed.draw(datetime.now(UTC))
                gateway.send([alarm] if alarm else [])
                next_alarm = now + feed.rng.expovariate(1.0 / alarm_every)  # at random moments, as alarms come
            time.sleep(max(0.05, min(next_beat, next_alarm if alarm_every else next_beat) - time.monotonic()))

    thread = threading.Thread(target=run, name="gridgov-demo-gateway", daemon=True)
    thread.start()
    in_dark = sum(d.village == dark for d in devices)
    print(f"sensing: playing the demo devices' gateway: {len(online)} of {len(devices)} report alive every "
          f"{interval_s:g} s (the {in_dark} of village {dark} and {len(down) - in_dark} scattered are down), "
          f"{alarms_per_min:g} alarms a minute; GRIDGOV_DEMO_PRESENCE_S=0 stops it", flush=True)
    return thread
