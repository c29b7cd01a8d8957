"""Issue #16 on the embedded stack: video-AI and IoT reports become tickets like any other, and what sensing says of
a case's alarm group (``gridgov.alarms.events``, group ``dispatch.alarms``) reaches the ticket — a repeat as
evidence that changes no state, a device's "resolved" as verification where its alarm type allows it and the ticket
awaits verification; an unknown report is ignored (never dead-lettered), a redelivery changes nothing."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_SECRET
from gridgov_common.auth import mint_token
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import ALARMS_EVENTS, dlq
from gridgov_common.events.alarms import ALARM_GROUP_REPEATED, ALARM_GROUP_RESOLVED, AlarmGroupEvent, Evidence
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.settings import CommonSettings
from gridgov_dispatch.app import create_app
from gridgov_dispatch.settings import DispatchSettings

from .conftest import GRID, TOWN, VILLAGE, Stack

CAMERA = "44190000001320000001"  # a GB/T 28181 camera: 20 digits, type 132 (IPC)
SENSOR = "IOT-water-7"
WATER = "d-water"
_points = iter(range(1, 10_000))


def _mint(role: str, sub: str | None = None, department: str | None = None, grid: str | None = None) -> dict:
    jwt = mint_token(TEST_SECRET, sub=sub or f"{role}-1", role=role, department=department, grid=grid)
    return {"Authorization": f"Bearer {jwt}"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    """One dispatch app for the module (merging on, 50 m): each test's tickets sit at points of their own."""
    common = CommonSettings(data_dir=tmp_path_factory.mktemp("dispatch"), jwt_secret=TEST_SECRET, log_json=False)
    with TestClient(create_app(DispatchSettings(common=common, merge_distance_m=50))) as client:
        yield Stack(client, _mint)


def located(channel: str, reporter: str, role: str, *, point: tuple[float, float] | None = None) -> Envelope:
    """A located report of a channel (04002 水管破裂 routes to water), at a point of its own unless given."""
    report_id = str(uuid.uuid4())
    lon, lat = point or next_point()
    payload = ReportLocated(
        report=ReportReceived(report_id=report_id, channel=channel, category_code="04002",
                              description="视频AI识别：水管破裂（摄像机 1 号，置信度 0.93）", lon=lon, lat=lat,
                              reporter_id=reporter, reporter_role=role, submitted_at=datetime.now(UTC)),
        location=Location(status="located", grid_code=GRID, village_code=VILLAGE, town_code=TOWN))
    return new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id, payload=payload,
                        correlation_id=report_id)


def next_point() -> tuple[float, float]:
    """A point about 1 km from every other one handed out (no two tickets merge by accident)."""
    return 113.70 + next(_points) * 0.01, 23.02


def ticket_of(stack: Stack, channel: str, reporter: str = CAMERA, role: str = "device") -> dict:
    envelope = located(channel, reporter, role)
    stack.publish(envelope)
    return stack.wait_ticket(envelope.key)


def group_event(report_id: str, *, resolved: bool = False, count: int = 2, verifies: bool = False,
                evidence: Evidence | None = None, device: str = CAMERA) -> Envelope:
    """An alarm-group event as sensing publishes it (key = report id)."""
    first = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    payload = AlarmGroupEvent(group_id=str(uuid.uuid4()), report_id=report_id, alarm_type="pipe_burst",
                              catalog_code="04002", device_id=device, count=count, first_seen=first,
                              last_seen=first + timedelta(minutes=count * 10), evidence=evidence,
                              resolved_verifies=verifies)
    return new_envelope(type=ALARM_GROUP_RESOLVED if resolved else ALARM_GROUP_REPEATED, producer="sensing",
                        key=report_id, payload=payload, correlation_id=report_id)


def publish(stack: Stack, *envelopes: Envelope) -> None:
    stack.runtime.bus.publish([OutgoingMessage(ALARMS_EVENTS, e.key, e.to_bytes()) for e in envelopes])


def detail(stack: Stack, ticket_id: str) -> dict:
    resp = stack.client.get(f"/v1/tickets/{ticket_id}", headers=_mint("command_centre"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_evidence(stack: Stack, ticket_id: str, count: int, timeout: float = 15.0) -> dict:
    """The ticket once it holds ``count`` sensor-evidence rows (exactly: more is a failure)."""
    deadline = time.monotonic() + timeout
    while True:
        ticket = detail(stack, ticket_id)
        got = [t for t in ticket["transitions"] if t["action"] == "sensor_evidence"]
        if len(got) >= count:
            assert len(got) == count, got
            return ticket
        assert time.monotonic() < deadline, f"{len(got)} of {count} sensor evidences recorded"
        time.sleep(0.02)


def act(stack: Stack, ticket_id: str, action: str, headers: dict, body: dict | None = None) -> dict:
    resp = stack.client.post(f"/v1/tickets/{ticket_id}/{action}", json=body, headers=headers)
    assert resp.status_code == 200, (action, resp.text)
    return resp.json()


def handled(stack: Stack, channel: str, reporter: str = CAMERA) -> dict:
    """A ticket of the channel, dispatched to water, claimed and handled: awaiting verification (待核查)."""
    ticket = ticket_of(stack, channel, reporter)
    water = _mint("dept_dispatcher", sub=WATER, department="water")
    act(stack, ticket["id"], "claim", water)
    return act(stack, ticket["id"], "handle", water, {"note": "已更换管段"})


def test_video_ai_and_iot_reports_become_dispatched_tickets_with_their_channel(stack):
    for channel, reporter in (("video_ai", CAMERA), ("iot", SENSOR)):
        ticket = ticket_of(stack, channel, reporter)
        assert ticket["channel"] == channel and ticket["reporter_id"] == reporter
        assert ticket["state"] == "dispatched" and ticket["department"] == "water"
        [registered, dispatched] = [TicketEvent.model_validate(e.payload) for e in stack.events(ticket["id"])]
        assert (registered.action, dispatched.action) == ("register", "dispatch")
        assert dispatched.channel == channel


def test_repeat_is_recorded_once_as_evidence_keeping_state_and_clock(stack):
    ticket = ticket_of(stack, "video_ai")
    repeat = group_event(ticket["report_id"], count=3,
                         evidence=Evidence(snapshot_url="https://vms.example.cn/snap/1.jpg"))
    publish(stack, repeat, repeat)  # the same message twice, as on a redelivery
    publish(stack, group_event(ticket["report_id"], count=4))  # after them on the report's key
    after = wait_evidence(stack, ticket["id"], 2)
    first, second = [t for t in after["transitions"] if t["action"] == "sensor_evidence"]
    assert first["actor_id"] == "system:sensing" and first["actor_role"] == "system"
    assert first["from_state"] == first["to_state"] == "dispatched"
    assert "感知告警重复" in first["note"] and "累计 3 次" in first["note"] and CAMERA in first["note"]
    assert "快照 https://vms.example.cn/snap/1.jpg" in first["note"] and "最近 2026-12-02 14:30:00" in first["note"]
    assert "累计 4 次" in second["note"]
    assert after["state"] == "dispatched" and after["deadline"] == ticket["deadline"]  # the clock did not move
    assert after["stage"] == ticket["stage"] == "claim"
    events = [TicketEvent.model_validate(e.payload) for e in stack.events(ticket["id"])]
    recorded = [e for e in events if e.action == "sensor_evidence"]
    assert len(recorded) == 2 and recorded[0].actor_id == "system:sensing" and recorded[0].to_state == "dispatched"
    assert [e.type for e in stack.events(ticket["id"])].count("ticket.sensor_evidence_recorded") == 2


def test_resolved_that_verifies_passes_verification_and_the_case_closes_as_usual(stack):
    ticket = handled(stack, "iot", SENSOR)
    publish(stack, group_event(ticket["report_id"], resolved=True, count=5, verifies=True, device=SENSOR,
                               evidence=Evidence(reading=0.12, unit="m")))
    after = wait_evidence(stack, ticket["id"], 1)
    assert after["state"] == "verified"
    evidence, verify = after["transitions"][-2:]
    assert evidence["action"] == "sensor_evidence" and "设备报告已恢复" in evidence["note"]
    assert "读数 0.12 m" in evidence["note"] and evidence["to_state"] == "handled"
    assert verify["action"] == "verify" and verify["actor_id"] == "system:sensing"
    assert (verify["from_state"], verify["to_state"]) == ("handled", "verified") and "核查通过" in verify["note"]
    assert after["stage"] is None and after["deadline"] is None  # the verification stage's clock stopped
    closed = act(stack, ticket["id"], "close", _mint("command_centre", sub="cc-1"), {"note": "结案"})
    assert closed["state"] == "closed"
    trail = len(detail(stack, ticket["id"])["transitions"])
    verified = [TicketEvent.model_validate(e.payload) for e in stack.events(ticket["id"])
                if e.type == "ticket.verified"]
    assert [(v.actor_id, v.actor_role) for v in verified] == [("system:sensing", "system")]
    # A closed case takes no more evidence: a late repeat is handled and changes nothing.
    base = sum(r.handled for r in stack.runtime.runners)
    publish(stack, group_event(ticket["report_id"], count=6, device=SENSOR))
    stack.wait_handled(base + 1)
    again = detail(stack, ticket["id"])
    assert again["state"] == "closed" and len(again["transitions"]) == trail


@pytest.mark.parametrize("verifies", [False, True])
def test_resolved_is_evidence_only_unless_it_may_verify_a_ticket_awaiting_verification(stack, verifies):
    waiting = handled(stack, "video_ai")
    dispatched = ticket_of(stack, "video_ai")
    # The type does not let the device verify (verifies=False), or the ticket does not await verification yet.
    publish(stack, group_event(waiting["report_id"], resolved=True, verifies=False),
            group_event(dispatched["report_id"], resolved=True, verifies=verifies))
    assert wait_evidence(stack, waiting["id"], 1)["state"] == "handled"
    assert wait_evidence(stack, dispatched["id"], 1)["state"] == "dispatched"
    # The grid worker still verifies on site, as for any case.
    worker = _mint("grid_worker", sub="gw-7", grid=GRID)
    assert act(stack, waiting["id"], "verify", worker, {"passed": True})["state"] == "verified"


def test_merged_device_report_adds_evidence_to_the_case_but_never_verifies_it(stack):
    point = next_point()
    citizen = located("citizen", "citizen-9", "citizen", point=point)
    stack.publish(citizen)
    ticket = stack.wait_ticket(citizen.key)
    camera = located("video_ai", CAMERA, "device", point=point)  # the same problem, seen by a camera: 并案
    stack.publish(camera)
    deadline = time.monotonic() + 15
    while not any(e.payload["action"] == "merge" for e in stack.events(ticket["id"])):
        assert time.monotonic() < deadline, "the camera's report was not merged"
        time.sleep(0.02)
    water = _mint("dept_dispatcher", sub=WATER, department="water")
    act(stack, ticket["id"], "claim", water)
    act(stack, ticket["id"], "handle", water, {"note": "已修复"})
    publish(stack, group_event(camera.key, resolved=True, verifies=True))
    after = wait_evidence(stack, ticket["id"], 1)
    assert after["state"] == "handled"  # the citizen's case is verified by the grid worker, not a merged camera


def dead_letters(stack: Stack) -> int:
    rows = stack.runtime.bus._conn().execute("SELECT COUNT(*) FROM log WHERE topic=?", (dlq(ALARMS_EVENTS),))
    return rows.fetchone()[0]


def test_unknown_report_is_ignored_never_dead_lettered(stack):
    base, dead = sum(r.handled for r in stack.runtime.runners), dead_letters(stack)
    publish(stack, group_event(str(uuid.uuid4()), resolved=True, verifies=True))
    stack.wait_handled(base + 1)
    assert dead_letters(stack) == dead


def test_bad_alarm_group_event_is_dead_lettered_and_the_stream_goes_on(stack):
    ticket, dead = ticket_of(stack, "iot", SENSOR), dead_letters(stack)
    bad = group_event(ticket["report_id"]).model_copy(update={"payload": {"report_id": ticket["report_id"]}})
    publish(stack, bad, group_event(ticket["report_id"], count=7, device=SENSOR))
    assert "累计 7 次" in wait_evidence(stack, ticket["id"], 1)["transitions"][-1]["note"]
    assert dead_letters(stack) == dead + 1


def test_evidence_and_verification_by_the_device_on_postgresql(pg_stack):
    # The same rows on PostgreSQL (column widths: the action, the actor, a note with a 500-character snapshot URL).
    ticket = handled(pg_stack, "video_ai")
    url = "https://vms.example.cn/snap/" + "a" * 466 + ".jpg"
    publish(pg_stack, group_event(ticket["report_id"], count=12, evidence=Evidence(snapshot_url=url)),
            group_event(ticket["report_id"], resolved=True, count=13, verifies=True))
    wait_evidence(pg_stack, ticket["id"], 2)
    # Read again: the detail reads the ticket and its transitions in two statements (READ COMMITTED), and the
    # resolved message's commit could fall between them; once both evidences show, that commit is done.
    after = detail(pg_stack, ticket["id"])
    assert after["state"] == "verified" and after["transitions"][-1]["actor_id"] == "system:sensing"
    assert url in after["transitions"][-3]["note"]
