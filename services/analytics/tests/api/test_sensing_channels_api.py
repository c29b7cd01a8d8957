"""Issue #16 on the embedded stack: tickets a camera (video_ai) or a sensor (iot) raised reach the cube on their own
channel; the trends and risk views take and show the two channels; the devices' evidence counts nothing.

An app of its own: the package's shared app holds exact totals other modules check."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_SECRET
from gridgov_analytics.app import create_app
from gridgov_analytics.settings import AnalyticsSettings
from gridgov_common.settings import CommonSettings
from services.analytics.tests.support import GRIDS, bearer, grid_envelope, publish, ticket_envelope, wait_cube

CN = timezone(timedelta(hours=8))
RANGE = {"from": "2026-11-02", "to": "2026-11-08"}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=CN)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    common = CommonSettings(data_dir=tmp_path_factory.mktemp("analytics-sensing"), jwt_secret=TEST_SECRET,
                            log_json=False)
    with TestClient(create_app(AnalyticsSettings(common=common, generation_poll_s=0.2))) as c:
        bus = c.app.state.runtime.bus
        publish(bus, grid_envelope(GRIDS[0], 113.70), grid_envelope(GRIDS[1], 113.71))
        publish(bus,
                ticket_envelope("register", "V1", at(2), channel="video_ai", category="01002"),
                ticket_envelope("sensor_evidence", "V1", at(2, 11), channel="video_ai", category="01002"),
                ticket_envelope("verify", "V1", at(3), channel="video_ai", category="01002",
                                actor_id="system:sensing"),
                ticket_envelope("close", "V1", at(3, 11), channel="video_ai", category="01002"),
                ticket_envelope("register", "I1", at(4), channel="iot", grid=GRIDS[1], category="04003"),
                ticket_envelope("sensor_evidence", "I1", at(4, 11), channel="iot", grid=GRIDS[1], category="04003"),
                ticket_envelope("register", "H1", at(4), channel="hotline"))
        wait_cube(c, {"registered": 3, "closed": 1})
        yield c


def get(client, path, **params):
    return client.get(path, params=params, headers=bearer("command_centre"))


def test_counts_by_channel_show_the_device_channels(client):
    body = get(client, "/v1/trends/counts", **RANGE, bucket="week", group_by="channel").json()
    series = {s["key"]: s["values"] for s in body["series"]}
    assert series["video_ai"] == [1] and series["iot"] == [1] and series["hotline"] == [1]
    assert series["patrol"] == [0]


def test_channel_filter_takes_the_device_channels(client):
    body = get(client, "/v1/trends/counts", **RANGE, bucket="week", channel="video_ai,iot",
               measure="registered,closed").json()
    assert {s["key"]: s["values"] for s in body["series"]} == {"registered": [2], "closed": [1]}
    only_iot = get(client, "/v1/trends/indicators", **RANGE, channel="iot").json()
    assert only_iot["registered"] == [1] and only_iot["closed"] == [0]
    resp = get(client, "/v1/risk/recurrences", **RANGE, channel="video_ai")
    assert resp.status_code == 200, resp.text
    refused = get(client, "/v1/trends/counts", **RANGE, channel="drone")
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "channel"
