"""Photos of a fix (处置照片, issue #13): a department's dispatcher uploads the photo its handling report names,
and the staff who follow the ticket read it; a citizen's photo of no report stays theirs alone, even to staff."""

import pytest
from fastapi.testclient import TestClient

from gridgov_event_intake.app import create_app
from gridgov_event_intake.media.samples import jpeg
from gridgov_event_intake.settings import IntakeSettings

GRID = "441900001001001"


@pytest.fixture
def client(common_settings):
    with TestClient(create_app(IntakeSettings(common=common_settings))) as c:
        yield c


def upload_fix_photo(client, token) -> str:
    """The water department's dispatcher uploads a photo of the fix; its media id."""
    water = token("dept_dispatcher", sub="d-water", department="water")
    resp = client.post("/v1/media", content=jpeg(), headers={**water, "Content-Type": "image/jpeg"})
    assert resp.status_code == 201, resp.text
    return resp.json()["media_id"]


def test_upload_fix_photo_as_dept_dispatcher_is_accepted(client, token):
    media_id = upload_fix_photo(client, token)
    water = token("dept_dispatcher", sub="d-water", department="water")
    photo = client.get(f"/v1/media/{media_id}", headers=water)
    assert photo.status_code == 200 and photo.content == jpeg(with_exif=False)


def test_read_fix_photo_as_command_centre_and_verifying_grid_worker(client, token):
    media_id = upload_fix_photo(client, token)
    for reader in (token("command_centre", sub="cc-1"), token("grid_worker", sub="gw-1", grid=GRID)):
        photo = client.get(f"/v1/media/{media_id}", headers=reader)
        assert photo.status_code == 200 and photo.content == jpeg(with_exif=False)


def test_read_fix_photo_as_citizen_is_404(client, token):
    media_id = upload_fix_photo(client, token)
    resp = client.get(f"/v1/media/{media_id}", headers=token("citizen", sub="wx-someone"))
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_upload_media_as_command_centre_is_forbidden(client, token):
    resp = client.post("/v1/media", content=jpeg(), headers={**token("command_centre", sub="cc-1"),
                                                             "Content-Type": "image/jpeg"})
    assert resp.status_code == 403


def test_read_citizen_photo_of_no_report_as_staff_is_404(client, token):
    owner = token("citizen", sub="wx-owner")
    resp = client.post("/v1/media", content=jpeg(), headers={**owner, "Content-Type": "image/jpeg"})
    media_id = resp.json()["media_id"]
    for staff in (token("command_centre", sub="cc-1"), token("dept_dispatcher", sub="d-water", department="water")):
        assert client.get(f"/v1/media/{media_id}", headers=staff).status_code == 404
    assert client.get(f"/v1/media/{media_id}", headers=owner).status_code == 200
