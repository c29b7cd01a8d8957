"""Abuse limits of intake (issue #11): citizen reports per account, device, phone, source address and under a
global ceiling; Open311 POST per api_key; upload quotas and decompression bombs; rewards only after
verification. The counts live in the database: two app instances on one database share them."""

import struct
import uuid
import zlib
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from gridgov_common.bus.envelope import new_envelope
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_common.geo import wgs84_to_gcj02
from gridgov_event_intake.app import create_app
from gridgov_event_intake.consumers import TICKET_STATUS
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.media.samples import jpeg
from gridgov_event_intake.open311.handlers import create_client
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.rewards.models import RewardEntry
from gridgov_event_intake.settings import IntakeSettings

POINT = wgs84_to_gcj02(113.7518, 23.0205)
FORM = {"service_code": "04002", "lat": "23.02", "long": "113.75", "description": "Burst water main"}
PROXY = ("10.0.0.5", 50000)  # a load balancer in front of intake


def settings_of(common_settings, database_url=None, **change) -> IntakeSettings:
    """Intake settings with small limits, so a test reaches them in a few requests; big ones elsewhere."""
    base = {"citizen_limit": 50, "citizen_account_limit": 50, "citizen_address_limit": 50,
            "citizen_global_per_minute": 500, "open311_limit": 50, "media_daily_count_per_account": 100,
            "media_daily_count_per_address": 100}
    extra = {"database_url": database_url} if database_url else {}
    return IntakeSettings(common=common_settings, **{**base, **extra, **change})


@pytest.fixture
def make_client(common_settings):
    """Start intake with the given setting changes (and TestClient options); stopped after the test."""
    started = []

    def _make(database_url=None, client=("testclient", 50000), **change):
        c = TestClient(create_app(settings_of(common_settings, database_url, **change)), client=client)
        c.__enter__()
        started.append(c)
        return c

    yield _make
    for c in reversed(started):
        c.__exit__(None, None, None)


def count(client, model, *where) -> int:
    with client.app.state.runtime.db.session() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def published(client) -> int:
    runtime = client.app.state.runtime
    runtime.relay.drain()
    return runtime.bus._conn().execute("SELECT count(*) FROM log WHERE topic='gridgov.reports.received'").fetchone()[0]


def upload(client, headers, data=None) -> str:
    resp = client.post("/v1/media", content=data or jpeg(), headers={**headers, "Content-Type": "image/jpeg"})
    assert resp.status_code == 201, resp.text
    return resp.json()["media_id"]


def post_citizen(client, headers, extra_headers=None, **change):
    body = {"category_code": "01002", "description": "小区门口垃圾成堆", "device_id": "dev-1",
            "lon": POINT[0], "lat": POINT[1], "media_ids": [upload(client, headers)], **change}
    return client.post("/v1/reports/citizen", json=body, headers={**headers, **(extra_headers or {})})


def assert_refused(resp, field: str, max_wait: int) -> None:
    assert resp.status_code == 429, resp.text
    assert 1 <= int(resp.headers["Retry-After"]) <= max_wait
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


# --- citizen reports ------------------------------------------------------------------------------------------

def test_post_citizen_report_rotating_device_id_is_refused_after_account_limit(make_client, token):
    client = make_client(citizen_account_limit=3, citizen_limit=5)
    me = token("citizen", sub="wx-rotator")
    for n in range(3):  # anonymous (no phone), a new device id each time: only the account ties them together
        assert post_citizen(client, me, device_id=f"dev-{n}").status_code == 202
    assert_refused(post_citizen(client, me, device_id="dev-99"), "account", 600)
    assert count(client, Report) == 3 and published(client) == 3
    # Another account is not held back by this one's limit.
    assert post_citizen(client, token("citizen", sub="wx-other"), device_id="dev-x").status_code == 202


def test_post_citizen_report_from_one_source_address_is_refused_after_address_limit(make_client, token):
    client = make_client(citizen_address_limit=2, trusted_proxies=["10.0.0.0/8"], client=PROXY)
    behind = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7"}  # the proxy heard 203.0.113.7
    for n in range(2):
        assert post_citizen(client, token("citizen", sub=f"wx-{n}"), behind, device_id=f"d-{n}").status_code == 202
    assert_refused(post_citizen(client, token("citizen", sub="wx-9"), behind, device_id="d-9"), "source_address", 600)
    elsewhere = {"X-Forwarded-For": "203.0.113.8"}
    assert post_citizen(client, token("citizen", sub="wx-8"), elsewhere, device_id="d-8").status_code == 202
    assert count(client, Report) == 3


def test_post_citizen_report_forwarded_for_from_untrusted_peer_is_ignored(make_client, token):
    client = make_client(citizen_address_limit=2, client=("198.51.100.20", 40000))  # no trusted proxies
    for n in range(2):
        forged = {"X-Forwarded-For": f"192.0.2.{n}"}
        assert post_citizen(client, token("citizen", sub=f"wx-{n}"), forged, device_id=f"d-{n}").status_code == 202
    resp = post_citizen(client, token("citizen", sub="wx-5"), {"X-Forwarded-For": "192.0.2.5"}, device_id="d-5")
    assert_refused(resp, "source_address", 600)  # counted under the peer the server saw, not the forged header


def test_post_citizen_report_over_global_ceiling_is_refused(make_client, token):
    client = make_client(citizen_global_per_minute=3)
    for n in range(3):  # each from its own account and device: only the ceiling applies
        assert post_citizen(client, token("citizen", sub=f"wx-{n}"), device_id=f"d-{n}").status_code == 202
    assert_refused(post_citizen(client, token("citizen", sub="wx-7"), device_id="d-7"), "channel", 60)
    assert count(client, Report) == 3 and published(client) == 3


# --- Open311 POST ---------------------------------------------------------------------------------------------

def test_post_open311_request_over_key_limit_is_429_error_array(make_client):
    client = make_client(open311_limit=2)
    key = create_client(client.app.state.runtime.db, "fixmystreet")
    for _ in range(2):
        assert client.post("/open311/v2/requests.json", data={**FORM, "api_key": key}).status_code == 201
    resp = client.post("/open311/v2/requests.json", data={**FORM, "api_key": key})
    assert resp.status_code == 429 and 1 <= int(resp.headers["Retry-After"]) <= 60
    [error] = resp.json()
    assert error["code"] == 429 and "api_key" in error["description"]
    xml = client.post("/open311/v2/requests.xml", data={**FORM, "api_key": key})
    assert xml.status_code == 429 and b"<code>429</code>" in xml.content
    assert count(client, Report) == 2
    # Another partner's key has its own allowance.
    other = create_client(client.app.state.runtime.db, "seeclickfix")
    assert client.post("/open311/v2/requests.json", data={**FORM, "api_key": other}).status_code == 201


def test_post_open311_request_without_valid_key_is_limited_per_source_address(make_client):
    client = make_client(open311_limit=3)
    assert client.post("/open311/v2/requests.json", data=FORM).status_code == 403  # no key
    for n in range(2):  # made-up keys, a new one each time: counted under the address all the same
        assert client.post("/open311/v2/requests.json", data={**FORM, "api_key": f"guess-{n}"}).status_code == 403
    resp = client.post("/open311/v2/requests.json", data={**FORM, "api_key": "guess-9"})
    assert resp.status_code == 429 and "source_address" in resp.json()[0]["description"]
    # A partner with a valid key is counted under its key, not held back by the guesser at the same address.
    key = create_client(client.app.state.runtime.db, "fixmystreet")
    assert client.post("/open311/v2/requests.json", data={**FORM, "api_key": key}).status_code == 201


# --- uploads --------------------------------------------------------------------------------------------------

def test_upload_media_over_daily_count_quota_is_429_and_nothing_stored(make_client, token):
    client = make_client(media_daily_count_per_account=2)
    me = token("citizen", sub="wx-uploader")
    upload(client, me)
    upload(client, me)
    resp = client.post("/v1/media", content=jpeg(), headers={**me, "Content-Type": "image/jpeg"})
    assert_refused(resp, "account", 86400)
    assert count(client, Media) == 2
    upload(client, token("citizen", sub="wx-someone-else"))  # a quota per account


def test_upload_media_over_daily_byte_quota_is_429(make_client, token):
    client = make_client(media_daily_bytes_per_account=len(jpeg()) * 2 + 10)
    me = token("grid_worker", sub="gw-bytes", grid="441900001001001")
    upload(client, me)
    upload(client, me)
    resp = client.post("/v1/media", content=jpeg(), headers={**me, "Content-Type": "image/jpeg"})
    assert_refused(resp, "account", 86400)
    assert "bytes" in resp.json()["error"]["details"][0]["reason"]


def test_upload_media_over_daily_quota_of_source_address_is_429(make_client, token):
    client = make_client(media_daily_count_per_address=2)
    for n in range(2):
        upload(client, token("citizen", sub=f"wx-{n}"))
    resp = client.post("/v1/media", content=jpeg(), headers={**token("citizen", sub="wx-9"),
                                                              "Content-Type": "image/jpeg"})
    assert_refused(resp, "source_address", 86400)


def bomb_png() -> bytes:
    """A 49 KB PNG whose header declares 100,000 x 100,000 pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">II", 100_000, 100_000) + b"\x08\x02\x00\x00\x00"  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(50_000_000), 9))
            + chunk(b"IEND", b""))


def test_upload_png_declaring_100000_by_100000_pixels_is_refused(make_client, token):
    client = make_client(media_max_bytes=10 * 1024 * 1024)
    data = bomb_png()
    assert 48_000 < len(data) < 50_000
    resp = client.post("/v1/media", content=data, headers={**token("citizen"), "Content-Type": "image/png"})
    assert resp.status_code == 422, resp.text
    [detail] = resp.json()["error"]["details"]
    assert detail["field"] == "file" and "100000 x 100000" in detail["reason"]
    assert count(client, Media) == 0


def test_upload_image_with_unreadable_header_is_415(make_client, token):
    client = make_client()
    no_frame = b"\xff\xd8\xff\xe0\x00\x04JF\xff\xda\x00\x02\x12\x34\xff\xd9"  # a JPEG with no SOFn
    resp = client.post("/v1/media", content=no_frame, headers={**token("citizen"), "Content-Type": "image/jpeg"})
    assert resp.status_code == 415
    assert resp.json()["error"]["details"][0]["field"] == "file"
    assert count(client, Media) == 0


# --- rewards --------------------------------------------------------------------------------------------------

def ticket_event(report_id: str, action: str, to_state: str, *, ticket_id: str = "t-1", department="water",
                 grid="441900001001001", merged=()):
    """A ticket event as dispatch publishes it on gridgov.tickets.events."""
    event = TicketEvent(ticket_id=ticket_id, report_id=report_id, action=action, from_state=None,
                        to_state=to_state, category_code="01002", department=department, grid_code=grid,
                        village_code=None, town_code=None, reporter_id="x", deadline=None, actor_id="a",
                        actor_role="system", occurred_at=datetime.now(UTC), merged_report_ids=list(merged))
    return new_envelope(type=ticket_event_type(action), producer="dispatch", key=ticket_id, payload=event,
                        correlation_id=report_id)


def deliver(client, *envelopes) -> None:
    """Hand envelopes to intake's ticket-events consumer, as the bus runner does."""
    [spec] = [c for c in client.app.state.runtime.consumers if c.group == TICKET_STATUS.group]
    spec.handler(list(envelopes))


def balance(client, token, sub: str) -> int:
    return client.get(f"/v1/rewards/{sub}", headers=token("citizen", sub=sub)).json()["balance"]


def test_verify_ticket_credits_citizen_report_once_and_intake_credits_nothing(make_client, token):
    client = make_client(citizen_reward_points=10)
    me = token("citizen", sub="wx-earner")
    rid = post_citizen(client, me).json()["report_id"]
    assert balance(client, token, "wx-earner") == 0  # accepted is not yet passed
    deliver(client, *(ticket_event(rid, a, s) for a, s in
                      (("register", "registered"), ("dispatch", "dispatched"), ("claim", "claimed"),
                       ("handle", "handled"))))
    assert balance(client, token, "wx-earner") == 0
    verified = ticket_event(rid, "verify", "verified")
    deliver(client, verified)
    deliver(client, verified)  # redelivered
    assert balance(client, token, "wx-earner") == 10
    # Reopened (回访不满意), handled and verified again: a second verification earns nothing more.
    deliver(client, ticket_event(rid, "reopen", "claimed"), ticket_event(rid, "handle", "handled"),
            ticket_event(rid, "verify", "verified"), ticket_event(rid, "close", "closed"))
    assert balance(client, token, "wx-earner") == 10
    assert count(client, RewardEntry, RewardEntry.report_id == rid) == 1


def test_verify_ticket_credits_nothing_for_report_merged_into_it(make_client, token):
    client = make_client(citizen_reward_points=10)
    first = post_citizen(client, token("citizen", sub="wx-first")).json()["report_id"]
    duplicate = post_citizen(client, token("citizen", sub="wx-dup"), device_id="dev-2").json()["report_id"]
    deliver(client, ticket_event(first, "verify", "verified", merged=[duplicate]))
    assert balance(client, token, "wx-first") == 10
    assert balance(client, token, "wx-dup") == 0  # 并案: a duplicate of a report already being handled


def test_verify_ticket_credits_nothing_for_report_credited_at_intake_before_upgrade(make_client, token):
    client = make_client(citizen_reward_points=10)
    rid = post_citizen(client, token("citizen", sub="wx-old")).json()["report_id"]
    with client.app.state.runtime.db.session() as session:  # as intake credited it before issue #11
        session.add(RewardEntry(citizen_id="wx-old", report_id=rid, points=10, reason="report_accepted",
                                at=datetime.now(UTC)))
        session.commit()
    deliver(client, ticket_event(rid, "verify", "verified"))
    assert balance(client, token, "wx-old") == 10

# --- two instances, one database ------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, common_settings):
    """None (intake's SQLite file in the data directory, shared by both instances), or a fresh PostgreSQL
    database."""
    if request.param == "sqlite":
        yield None
        return
    import psycopg
    from sqlalchemy import make_url

    from conftest import require_infra

    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL")
    name = f"gg_intake_lim_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    yield make_url(admin).set(drivername="postgresql+psycopg", username="gridgov", password="gridgov",
                              database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_citizen_account_limit_holds_across_two_instances_sharing_database(make_client, token, database_url):
    instances = [make_client(database_url, citizen_account_limit=3) for _ in range(2)]
    me = token("citizen", sub="wx-two")
    answers = [post_citizen(instances[n % 2], me, device_id=f"dev-{n}").status_code for n in range(4)]
    assert answers == [202, 202, 202, 429]  # the fourth, on the second instance, counts the first's two
    assert_refused(post_citizen(instances[0], me, device_id="dev-9"), "account", 600)
    assert count(instances[0], Report) == 3


def test_open311_key_limit_holds_across_two_instances_sharing_database(make_client, database_url):
    instances = [make_client(database_url, open311_limit=2) for _ in range(2)]
    key = create_client(instances[0].app.state.runtime.db, "fixmystreet")
    answers = [instances[n % 2].post("/open311/v2/requests.json", data={**FORM, "api_key": key}).status_code
               for n in range(3)]
    assert answers == [201, 201, 429]


def test_upload_quota_holds_across_two_instances_sharing_database(make_client, token, database_url):
    instances = [make_client(database_url, media_daily_count_per_account=2) for _ in range(2)]
    me = token("citizen", sub="wx-up")
    upload(instances[0], me)
    upload(instances[1], me)
    resp = instances[0].post("/v1/media", content=jpeg(), headers={**me, "Content-Type": "image/jpeg"})
    assert_refused(resp, "account", 86400)

