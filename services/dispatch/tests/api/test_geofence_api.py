"""Geofenced verification (issue #14) on the embedded stack and on PostgreSQL: dispatch learns grid boundaries
and stored photos from the bus (once each), judges each verification and handling against the ticket's grid,
refuses a fix outside it (or mocked, stale, inaccurate) with a 422 naming the field and stores nothing, keeps an
accepted verdict on the ticket, its audit row and its event, and lists the flagged tickets."""

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import GRIDS_PUBLISHED, MEDIA_STORED, REPORTS_LOCATED
from gridgov_common.events.grids import GRID_PUBLISHED_TYPE, GridPublished, grid_key, grid_message_id
from gridgov_common.events.media import MEDIA_STORED_TYPE, MediaStored
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_dispatch.app import create_app
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.tickets.models import Ticket
from gridgov_dispatch.verification import geofence
from gridgov_dispatch.verification.models import LearnedGrid, LearnedMedia

from .conftest import GRID, TOWN, VILLAGE, Stack

CENTRE = (113.75, 23.02)  # where Stack.located reports: the middle of the test grid
KX, KY = geofence.metres_per_degree(CENTRE[1])
HALF_SIDE_M = 500.0


def at(dx_m: float, dy_m: float = 0.0) -> tuple[float, float]:
    """lon, lat of a point dx metres east and dy metres north of the grid's centre."""
    return CENTRE[0] + dx_m / KX, CENTRE[1] + dy_m / KY


def square() -> dict:
    h = HALF_SIDE_M
    return {"type": "Polygon", "coordinates": [[list(at(-h, -h)), list(at(h, -h)), list(at(h, h)),
                                                list(at(-h, h)), list(at(-h, -h))]]}


def grid_published(version="dg-2026", *, retired=False, published_at=None) -> Envelope:
    payload = GridPublished(grid_code=GRID, grid_name="第1网格", village_code=VILLAGE, town_code=TOWN,
                            grid_set_version=version, boundary=None if retired else square(), retired=retired,
                            published_at=published_at or datetime.now(UTC))
    envelope = new_envelope(type=GRID_PUBLISHED_TYPE, producer="grid-registry", key=grid_key(GRID), payload=payload,
                            correlation_id=GRID)
    return envelope.model_copy(update={"id": grid_message_id(GRID, version)})


def media_stored(media_id=None, *, where=(0.0, 0.0), exif=True, phash="0f0f0f0f0f0f0f0f") -> Envelope:
    media_id = media_id or str(uuid.uuid4())
    lon, lat = at(*where)
    payload = MediaStored(media_id=media_id, uploaded_by="gw-7", uploader_role="grid_worker",
                          content_type="image/jpeg", sha256=uuid.uuid4().hex * 2, phash=phash,
                          exif_lat=lat if exif else None, exif_lon=lon if exif else None,
                          exif_taken_at=datetime.now(UTC) - timedelta(minutes=1) if exif else None,
                          stored_at=datetime.now(UTC))
    return new_envelope(type=MEDIA_STORED_TYPE, producer="event-intake", key=media_id, payload=payload,
                        correlation_id=media_id)


def publish(stack: Stack, topic: str, *envelopes: Envelope) -> None:
    stack.runtime.bus.publish([OutgoingMessage(topic, e.key, e.to_bytes()) for e in envelopes])


def wait_for(check, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"{what} not reached in time"
        time.sleep(0.02)
    return value


def learned(stack: Stack, model, key):
    with stack.runtime.db.session() as session:
        return session.get(model, key)


def learn_grid(stack: Stack) -> None:
    publish(stack, GRIDS_PUBLISHED, grid_published())
    wait_for(lambda: learned(stack, LearnedGrid, GRID), "the grid learned")


def learn_photo(stack: Stack, **kwargs) -> str:
    envelope = media_stored(**kwargs)
    publish(stack, MEDIA_STORED, envelope)
    wait_for(lambda: learned(stack, LearnedMedia, envelope.key), "the photo learned")
    return envelope.key


def fix(dx_m=0.0, dy_m=0.0, *, accuracy_m=10.0, age_s=20.0, mocked=False) -> dict:
    lon, lat = at(dx_m, dy_m)
    return {"lat": lat, "lon": lon, "accuracy_m": accuracy_m, "mocked": mocked,
            "fixed_at": (datetime.now(UTC) - timedelta(seconds=age_s)).isoformat()}


def on_spot(stack: Stack, *, device_fix: dict | None, media_ids=()) -> dict:
    """A grid worker's 自行处置 report in the test grid, as grid-registry publishes it located; its ticket."""
    report_id = str(uuid.uuid4())
    payload = ReportLocated(
        report=ReportReceived(report_id=report_id, channel="patrol", category_code="04002", description="井盖松动",
                              lon=CENTRE[0], lat=CENTRE[1], reporter_id="gw-7", reporter_role="grid_worker",
                              submitted_at=datetime.now(UTC), handled_on_spot=True, handled_note="已复位井盖",
                              media_ids=list(media_ids), device_fix=device_fix),
        location=Location(status="located", grid_code=GRID, village_code=VILLAGE, town_code=TOWN))
    publish(stack, REPORTS_LOCATED, new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id,
                                                 payload=payload, correlation_id=report_id))
    return stack.wait_ticket(report_id)


def handled(stack: Stack, *, media_ids=()) -> dict:
    """A ticket in the test grid, dispatched to water, claimed and handled (awaiting 核查)."""
    report_id = str(uuid.uuid4())
    payload = ReportLocated(
        report=ReportReceived(report_id=report_id, channel="patrol", category_code="04002",
                              description="自来水管破裂，路面冒水", lon=CENTRE[0], lat=CENTRE[1], reporter_id="gw-7",
                              reporter_role="grid_worker", submitted_at=datetime.now(UTC),
                              media_ids=list(media_ids)),
        location=Location(status="located", grid_code=GRID, village_code=VILLAGE, town_code=TOWN))
    publish(stack, REPORTS_LOCATED, new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id,
                                                 payload=payload, correlation_id=report_id))
    tid = stack.wait_ticket(report_id)["id"]
    water = stack.token("dept_dispatcher", sub="d-water", department="water")
    for action, body in (("claim", None), ("handle", {"note": "已更换管段"})):
        resp = stack.client.post(f"/v1/tickets/{tid}/{action}", json=body, headers=water)
        assert resp.status_code == 200, resp.text
    return resp.json()


def worker(stack: Stack) -> dict:
    return stack.token("grid_worker", sub="gw-7", grid=GRID)


def verify(stack: Stack, tid: str, body: dict, **headers):
    return stack.client.post(f"/v1/tickets/{tid}/verify", json={"passed": True, **body},
                             headers={**worker(stack), **headers})


def detail(stack: Stack, tid: str) -> dict:
    resp = stack.client.get(f"/v1/tickets/{tid}", headers=stack.token("command_centre"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_learn_grid_and_photo_once_even_when_delivered_twice(any_stack):
    stack = any_stack
    first = grid_published("dg-2026", published_at=datetime.now(UTC) - timedelta(hours=1))
    photo = media_stored()
    again = photo.model_copy(update={"id": uuid.uuid4()})  # the same photo under a new envelope id
    publish(stack, GRIDS_PUBLISHED, first, first)
    publish(stack, MEDIA_STORED, photo, photo, again)
    row = wait_for(lambda: learned(stack, LearnedGrid, GRID), "the grid learned")
    assert row.grid_set_version == "dg-2026" and not row.retired
    assert geofence.boundary_from_geojson(GRID, row.boundary).geometry.area > 0
    stored = wait_for(lambda: learned(stack, LearnedMedia, photo.key), "the photo learned")
    assert stored.phash == "0f0f0f0f0f0f0f0f" and stored.exif_lat == pytest.approx(CENTRE[1])
    # A newer set retires the grid; a replay of the older announcement afterwards changes nothing.
    publish(stack, GRIDS_PUBLISHED, grid_published("dg-2027", retired=True),
            first.model_copy(update={"id": uuid.uuid4()}))
    row = wait_for(lambda: (r := learned(stack, LearnedGrid, GRID)) and r.retired and r, "the grid retired")
    stack.wait_handled(7)  # 4 grid messages (1 a repeat, 1 a replay), 3 photo messages (2 repeats)
    row = learned(stack, LearnedGrid, GRID)
    assert (row.grid_set_version, row.retired, row.boundary) == ("dg-2027", True, None)
    with stack.runtime.db.session() as session:
        assert session.query(LearnedMedia).count() == 1


def test_verify_inside_grid_is_accepted_with_verdict_on_ticket_trail_and_event(any_stack):
    stack = any_stack
    learn_grid(stack)
    photo = learn_photo(stack, where=(10.0, 5.0))
    ticket = handled(stack)
    resp = verify(stack, ticket["id"], {"photos": [photo], "fix": fix(12.0, 0.0)})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"] == "verified" and body["geofence"]["verdict"] == "inside"
    assert [r["code"] for r in body["geofence"]["reasons"]] == ["fix_inside"]
    assert "网格内" in body["geofence"]["reasons"][0]["message"]
    trail = detail(stack, ticket["id"])
    assert trail["geofence"] == body["geofence"]
    assert trail["transitions"][-1]["action"] == "verify" and trail["transitions"][-1]["geofence"] == body["geofence"]
    assert trail["transitions"][-2]["geofence"] is None  # the desk's handling carried no fix: never checked
    verified = [e for e in stack.events(ticket["id"]) if e.type == "ticket.verified"]
    event = TicketEvent.model_validate(verified[0].payload)
    assert event.geofence is not None and event.geofence.verdict == "inside"
    assert event.geofence.reasons[0].code == "fix_inside"


def test_verify_outside_grid_is_refused_naming_fix_and_stores_nothing(any_stack):
    stack = any_stack
    learn_grid(stack)
    ticket = handled(stack)
    events_before = len(stack.events(ticket["id"]))
    resp = verify(stack, ticket["id"], {"fix": fix(2000.0)}, **{"Accept-Language": "zh-CN"})
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert [d["field"] for d in error["details"]] == ["fix"]
    assert "网格外" in error["details"][0]["reason"] and error["message"].startswith("现场核验未通过")
    english = verify(stack, ticket["id"], {"fix": fix(2000.0)}).json()["error"]
    assert "outside the grid" in english["details"][0]["reason"]
    after = detail(stack, ticket["id"])
    assert (after["state"], after["version"], after["geofence"]) == ("handled", ticket["version"], None)
    assert len(stack.events(ticket["id"])) == events_before


def test_verify_with_mocked_stale_inaccurate_fix_names_each_field(any_stack):
    stack = any_stack
    learn_grid(stack)
    ticket = handled(stack)
    cases = {"fix.mocked": fix(mocked=True), "fix.fixed_at": fix(age_s=11 * 60),
             "fix.accuracy_m": fix(accuracy_m=80.0)}
    for field, body in cases.items():
        resp = verify(stack, ticket["id"], {"fix": body})
        assert resp.status_code == 422, resp.text
        assert [d["field"] for d in resp.json()["error"]["details"]] == [field]
    future = verify(stack, ticket["id"], {"fix": fix(age_s=-120)})
    assert [d["field"] for d in future.json()["error"]["details"]] == ["fix.fixed_at"]
    missing = verify(stack, ticket["id"], {"fix": {k: v for k, v in fix().items() if k != "accuracy_m"}})
    assert missing.status_code == 422
    assert [d["field"] for d in missing.json()["error"]["details"]] == ["fix.accuracy_m"]
    assert detail(stack, ticket["id"])["state"] == "handled"


def test_verify_without_fix_is_unverifiable_and_listed_as_flagged(stack):
    learn_grid(stack)
    flagged, clean = handled(stack), handled(stack)
    assert verify(stack, flagged["id"], {}).json()["geofence"]["verdict"] == "unverifiable"
    assert verify(stack, clean["id"], {"fix": fix()}).json()["geofence"]["verdict"] == "inside"
    centre = stack.token("command_centre")

    def listed(value: str) -> set[str]:
        resp = stack.client.get("/v1/tickets", params={"geofence": value}, headers=centre)
        assert resp.status_code == 200, resp.text
        return {t["id"] for t in resp.json()["items"]}

    assert listed("unverifiable,outside") == {flagged["id"]}
    assert listed("boundary,unverifiable") == {flagged["id"]}
    assert listed("inside") == {clean["id"]}
    wrong = stack.client.get("/v1/tickets", params={"geofence": "inside,nowhere"}, headers=centre)
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "geofence"


def test_verify_fix_inside_without_photo_exif_is_not_inside(stack):
    learn_grid(stack)
    bare = learn_photo(stack, exif=False)
    ticket = handled(stack)
    body = verify(stack, ticket["id"], {"photos": [bare], "fix": fix()}).json()
    assert body["geofence"]["verdict"] == "unverifiable"
    assert [r["code"] for r in body["geofence"]["reasons"]] == ["fix_inside", "photo_no_exif"]


def test_verify_with_report_photo_again_is_flagged_as_reused(stack):
    learn_grid(stack)
    before = learn_photo(stack, phash="123456789abcdef0")
    again = learn_photo(stack, phash="123456789abcdef1")  # one bit apart: the same picture re-encoded
    ticket = handled(stack, media_ids=[before])
    body = verify(stack, ticket["id"], {"photos": [again], "fix": fix()}).json()
    assert body["geofence"]["verdict"] == "unverifiable"
    assert "photo_reused_in_case" in [r["code"] for r in body["geofence"]["reasons"]]
    # The next case in the grid reusing the same picture is caught from the grid's recent cases.
    other = handled(stack)
    body = verify(stack, other["id"], {"photos": [learn_photo(stack, phash="123456789abcdef3")],
                                       "fix": fix()}).json()
    assert "photo_reused_in_grid" in [r["code"] for r in body["geofence"]["reasons"]]


def test_handle_with_fix_outside_grid_is_refused_and_without_fix_unchecked(stack):
    learn_grid(stack)
    tid = stack.ticket_for()["id"]
    water = stack.token("dept_dispatcher", sub="d-water", department="water")
    assert stack.client.post(f"/v1/tickets/{tid}/claim", headers=water).status_code == 200
    resp = stack.client.post(f"/v1/tickets/{tid}/handle", json={"note": "已更换", "fix": fix(-3000.0)},
                             headers=water)
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "fix"
    assert detail(stack, tid)["state"] == "claimed"
    resp = stack.client.post(f"/v1/tickets/{tid}/handle", json={"note": "已更换", "fix": fix(-520.0)},
                             headers=water)
    assert resp.status_code == 200 and resp.json()["geofence"]["verdict"] == "boundary"


def test_verify_refusal_comes_after_the_state_and_role_checks(stack):
    learn_grid(stack)
    ticket = handled(stack)
    stranger = stack.token("grid_worker", sub="gw-9", grid="441900001001009")
    resp = stack.client.post(f"/v1/tickets/{ticket['id']}/verify", json={"passed": True, "fix": fix(2000.0)},
                             headers=stranger)
    assert resp.status_code == 403
    assert verify(stack, ticket["id"], {"fix": fix()}).status_code == 200
    assert verify(stack, ticket["id"], {"fix": fix(2000.0)}).status_code == 409  # verified already


# The photo is published 0.2 s into a 2.5 s wait: the consumer has 2.3 s to learn it. With a 1 s wait (0.7 s to
# spare) a CI dry run under load saw the wait end first (2026-12-06).
WAIT_S = 2.5


@pytest.fixture
def waiting_stack(common_settings, token):
    """The app with a wait of WAIT_S for photos not learned yet."""
    app = create_app(DispatchSettings(common=common_settings, geofence_media_wait_s=WAIT_S))
    with TestClient(app) as client:
        yield Stack(client, token)


def test_verify_waits_for_photo_learned_late_then_judges_unknown(waiting_stack):
    stack = waiting_stack
    learn_grid(stack)
    ticket = handled(stack)
    started = time.monotonic()
    body = verify(stack, ticket["id"], {"photos": [str(uuid.uuid4())], "fix": fix()}).json()
    assert time.monotonic() - started >= WAIT_S
    assert body["geofence"]["verdict"] == "unverifiable"
    assert [r["code"] for r in body["geofence"]["reasons"]] == ["fix_inside", "photo_unknown"]
    # A photo whose media.stored arrives during the wait is judged on what it said.
    late, other = media_stored(where=(5.0, 0.0)), handled(stack)
    timer = threading.Timer(0.2, publish, (stack, MEDIA_STORED, late))
    timer.start()
    body = verify(stack, other["id"], {"photos": [late.key], "fix": fix()}).json()
    timer.join()
    assert body["geofence"]["verdict"] == "inside", body
    # A request that cannot be taken is answered at once, not after waiting for its photos.
    started = time.monotonic()
    again = verify(stack, other["id"], {"photos": [str(uuid.uuid4())], "fix": fix()})
    assert again.status_code == 409 and time.monotonic() - started < WAIT_S - 0.5  # it would take ≥ WAIT_S


def test_ticket_row_keeps_latest_verdict_columns(stack):
    learn_grid(stack)
    ticket = handled(stack)
    verify(stack, ticket["id"], {"fix": fix(-510.0)})
    with stack.runtime.db.session() as session:
        row = session.get(Ticket, ticket["id"])
        assert row.geofence_verdict == "boundary" and row.geofence_checked_at is not None


def test_handled_on_spot_outside_grid_is_flagged_never_refused(any_stack):
    stack = any_stack
    learn_grid(stack)
    photo = learn_photo(stack, where=(-2000.0, 0.0))
    far = on_spot(stack, device_fix=fix(-2000.0), media_ids=[photo])
    assert far["state"] == "handled"  # accepted: the report was already accepted by intake
    assert far["geofence"]["verdict"] == "outside"
    assert [r["code"] for r in far["geofence"]["reasons"]] == ["fix_outside"]
    handle = detail(stack, far["id"])["transitions"][-1]
    assert handle["action"] == "handle" and handle["photos"] == [photo] and handle["geofence"] == far["geofence"]
    event = [TicketEvent.model_validate(e.payload) for e in stack.events(far["id"]) if e.type == "ticket.handled"]
    assert event[0].geofence.verdict == "outside"
    fresh = learn_photo(stack, where=(5.0, 0.0), phash="f0f0f0f0f0f0f0f0")  # not the far case's picture
    near = on_spot(stack, device_fix=fix(5.0), media_ids=[fresh])
    assert near["geofence"]["verdict"] == "inside"
    blind = on_spot(stack, device_fix=None)
    assert [r["code"] for r in blind["geofence"]["reasons"]] == ["no_fix"]
    listed = stack.client.get("/v1/tickets", params={"geofence": "outside,unverifiable"},
                              headers=stack.token("command_centre")).json()
    assert {t["id"] for t in listed["items"]} == {far["id"], blind["id"]}
