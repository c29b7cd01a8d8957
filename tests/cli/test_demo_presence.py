"""``gridgov up`` plays the demo devices' gateway (``gridgov_cli.presence``): the silent devices are one whole
village and a small scattered share, the same every start; heartbeats reach sensing in requests of at most 5,000
devices; the alarms come mostly from a few noisy cameras, each with one algorithm, and only from online devices and
their own algorithms; a sensing that does not answer costs a round, not the thread; and against a running sensing
the played devices are online, the others offline (the dark village heard once, on the first start, then cut), and
the alarms become alarm groups."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from gridgov_cli import presence
from gridgov_cli.presence import DemoDevice
from gridgov_cli.sensing import ensure_demo_devices
from tests.support.stack import SECRET, Stack

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def city(villages: int = 40, per_village: int = 500) -> list[DemoDevice]:
    """A list of demo devices: ``per_village`` in each of ``villages`` villages, one in five a sensor."""
    return [DemoDevice(f"44190000001320{v:02d}{i:04d}", "camera", f"4419000010{v:02d}",
                       ("exposed_garbage", "street_vending")) if i % 5 else
            DemoDevice(f"IOT-manhole-{v:02d}{i:04d}", "sensor", f"4419000010{v:02d}", ("manhole_displaced",))
            for v in range(villages) for i in range(per_village)]


def test_one_whole_village_and_a_scattered_share_are_down_the_same_every_time():
    devices = city()
    down, dark = presence.down_devices(devices)
    assert (down, dark) == presence.down_devices(list(reversed(devices)))  # by seed, not by the list's order
    village_of = {d.device_id: d.village for d in devices}
    in_dark = {d.device_id for d in devices if d.village == dark}
    assert len(in_dark) == 500 and in_dark <= down
    scattered = down - in_dark
    assert 0.010 < len(scattered) / (len(devices) - 500) < 0.020  # ~1.5 % of 19,500
    assert len(Counter(village_of[d] for d in scattered)) > 20  # spread over the city, not one more patch
    assert presence.down_devices(devices, seed=17) != (down, dark)


def test_a_village_with_fewer_than_ten_devices_is_never_the_dark_one():
    devices = [DemoDevice("S-1", "sensor", "A", ()), DemoDevice("S-2", "sensor", "A", ()),
               *[DemoDevice(f"T-{i}", "sensor", "B", ()) for i in range(10)]]
    assert presence.down_devices(devices, scattered=0.0) == ({f"T-{i}" for i in range(10)}, "B")
    assert presence.down_devices(devices[:1], scattered=0.0) == (set(), None)


def test_the_demo_list_round_trips(tmp_path):
    assert presence.read_demo_list(tmp_path) == []
    devices = [DemoDevice("44190000001320000001", "camera", "441900001001", ("exposed_garbage", "smoke_fire")),
               DemoDevice("IOT-gas-000001", "sensor", "441900001002", ("gas_concentration",))]
    presence.write_demo_list(tmp_path, devices)
    assert presence.read_demo_list(tmp_path) == devices
    assert not list(tmp_path.glob("*.part"))


def test_the_alarms_come_mostly_from_a_few_noisy_cameras_and_only_from_online_devices():
    devices = city(villages=10, per_village=200)
    online = devices[::2]
    feed = presence.AlarmFeed(online, random.Random(7))
    alarms = [feed.draw(NOW) for _ in range(4000)]
    by_id = {d.device_id: d for d in online}
    assert all(a["device_id"] in by_id and a["alarm_type"] in by_id[a["device_id"]].algorithms for a in alarms)
    assert len({a["alarm_id"] for a in alarms}) == 4000
    noisy = {d.device_id: t for d, t in feed.noisy}
    assert len(noisy) == presence.NOISY and all(by_id[i].kind == "camera" for i in noisy)
    from_noisy = [a for a in alarms if a["device_id"] in noisy]
    assert 0.55 < len(from_noisy) / len(alarms) < 0.7  # NOISY_SHARE, plus the odd random pick of a noisy one
    assert all(a["alarm_type"] == noisy[a["device_id"]] for a in from_noisy if a["state"] == "resolved")
    assert {a["state"] for a in alarms} == {"firing", "resolved"}
    assert all(a["state"] == "firing" for a in alarms if a["device_id"] not in noisy)
    counts = Counter(a["device_id"] for a in from_noisy).most_common()
    assert counts[0][1] > 4 * counts[-1][1]  # Zipf: the noisiest far above the quietest
    assert all(("confidence" in a) == (by_id[a["device_id"]].kind == "camera") for a in alarms)
    assert presence.AlarmFeed([], random.Random(1)).draw(NOW) is None


def test_the_first_start_sends_the_last_two_hours_alarms_oldest_first():
    feed = presence.AlarmFeed(city(villages=4, per_village=50), random.Random(3))
    alarms = presence.backfill_alarms(feed, NOW, 1)
    moments = [datetime.fromisoformat(a["occurred_at"]) for a in alarms]
    assert len(alarms) == 120 and moments == sorted(moments)
    assert NOW - presence.timedelta(hours=2) <= moments[0] and moments[-1] <= NOW
    assert len(presence.backfill_alarms(feed, NOW, 600)) == presence.BACKFILL_MAX


def test_heartbeats_go_in_requests_of_at_most_round_devices_and_survive_a_silent_sensing(monkeypatch):
    monkeypatch.setattr(presence, "ROUND", 4)
    asked: list[list[str]] = []
    down = {"fail": False}

    def sensing(request: httpx.Request) -> httpx.Response:
        if down["fail"]:
            raise httpx.ConnectError("sensing is restarting", request=request)
        assert request.headers["Authorization"] == "Bearer tok"
        ids = json.loads(request.content)["device_ids"]
        asked.append(ids)
        return httpx.Response(200, json={"recorded": len(ids), "unknown_count": 0, "unknown": [],
                                         "heartbeat_at": "2026-12-07T00:00:00Z"})

    alive = [f"CAM-{i}" for i in range(10)]
    gateway = presence.Gateway(httpx.Client(base_url="http://sensing.test", transport=httpx.MockTransport(sensing)),
                               alive, lambda: "tok")
    assert gateway.beat() == 10
    assert [len(ids) for ids in asked] == [4, 4, 2] and sum(asked, []) == alive
    down["fail"] = True
    assert gateway.beat() == 0 and gateway.failures == 3
    assert gateway.send([{"device_id": "CAM-1"}]) is False
    down["fail"] = False
    assert gateway.beat() == 10


def test_no_list_or_no_interval_plays_nothing(tmp_path):
    assert presence.start_presence(tmp_path, "http://127.0.0.1:1", SECRET) is None
    presence.write_demo_list(tmp_path, [DemoDevice("CAM-1", "sensor", "441900001001", ())])
    assert presence.start_presence(tmp_path, "http://127.0.0.1:1", SECRET, interval_s=0) is None


@pytest.fixture(scope="module")
def sensing_stack(tmp_path_factory):
    """grid-registry and sensing on the embedded stack."""
    stack = Stack("embedded", tmp_path_factory.mktemp("presence"))
    stack.start(["grid-registry", "sensing"])
    yield stack
    stack.close()


def test_the_played_devices_are_online_the_others_offline_and_their_alarms_group(sensing_stack, monkeypatch):
    monkeypatch.setenv("GRIDGOV_JWT_SECRET", SECRET)
    monkeypatch.setenv("GRIDGOV_REGISTRY_PORT", str(sensing_stack.ports["grid-registry"]))
    monkeypatch.delenv("GRIDGOV_SENSING_DATABASE_URL", raising=False)
    data = sensing_stack.data_dir
    assert ensure_demo_devices(data, sensing_stack.url("grid-registry"), 5000) is not None
    devices = presence.read_demo_list(data)
    down, dark = presence.down_devices(devices)
    assert dark is not None and 0 < len(down) < len(devices)
    extra = "ADMIN-REGISTERED-1"  # registered by hand: no gateway plays it
    centre = sensing_stack.auth(sub="cc-1", role="command_centre")
    admin = sensing_stack.auth(sub="admin-1", role="admin")
    with httpx.Client(base_url=sensing_stack.url("sensing"), timeout=30) as client:
        first = client.get("/v1/devices", params={"limit": 1}, headers=centre).json()["features"][0]
        lon, lat = first["geometry"]["coordinates"]
        resp = client.post("/v1/devices", headers=admin, json={"device_id": extra, "kind": "sensor", "name": "手工登记",
                                                               "lon": lon, "lat": lat, "algorithms": []})
        assert resp.status_code == 201, resp.text
        thread = presence.start_presence(data, sensing_stack.url("sensing"), SECRET, interval_s=0.5,
                                         alarms_per_min=600)
        assert thread is not None and thread.daemon

        def counts():
            on = client.get("/v1/devices", params={"online": "true", "limit": 1}, headers=centre).json()["total"]
            off = client.get("/v1/devices", params={"online": "false", "limit": 5000}, headers=centre).json()
            return on, {f["id"] for f in off["features"]}

        # The first start: the dark village is heard once (its fibre is cut after), the scattered never.
        in_dark = {d.device_id for d in devices if d.village == dark}
        never = down - in_dark
        on, off = sensing_stack.wait_for("the demo gateway's first round",
                                         lambda: (lambda c: c if c[0] == len(devices) - len(never) else None)(counts()))
        assert off == never | {extra}
        cut = sensing_stack.wait_for("the fibre cut", lambda: (data / presence.FIBRE_CUT).exists() and json.loads(
            (data / presence.FIBRE_CUT).read_text()))
        assert (cut["village"], cut["devices"]) == (dark, len(in_dark))

        def beats() -> dict[str, str]:  # the dark village's devices and the first online device's last heartbeat
            alive = next(d.device_id for d in devices if d.device_id not in down)
            return {i: client.get(f"/v1/devices/{i}", headers=centre).json()["heartbeat_at"]
                    for i in [*sorted(in_dark)[:3], alive]}

        before = beats()
        time.sleep(1.6)  # three more rounds: the online device beats on, the cut village does not
        after = beats()
        assert [i for i in before if before[i] != after[i]] == [next(d.device_id for d in devices
                                                                     if d.device_id not in down)]

        def groups():
            items = client.get("/v1/alarm-groups", params={"limit": 1000}, headers=centre).json()["items"]
            return items if len(items) >= 5 else None

        items = sensing_stack.wait_for("the demo alarms grouped", groups)
        assert not {g["device_id"] for g in items} & (down | {extra})
        assert sensing_stack.wait_for("the backfill sent", lambda: (data / presence.ALARMS_PLAYED).exists())
        assert json.loads((data / presence.ALARMS_PLAYED).read_text())["alarms"] == presence.BACKFILL_MAX
