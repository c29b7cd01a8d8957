"""The media storage interface: local files, and the S3 backend against moto's S3 server over HTTP."""

import time

import pytest

from gridgov_event_intake.media.storage import LocalStorage, S3Storage
from tests.support.ports import free_port


@pytest.fixture(scope="module")
def s3_endpoint():
    moto_server = pytest.importorskip("moto.server")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    boto3 = pytest.importorskip("boto3")
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="media")
    return S3Storage("media", prefix="event-intake", endpoint_url=s3_endpoint, region="us-east-1"), client


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    return request.getfixturevalue("s3")[0]


def test_put_get_delete_media_round_trips(storage):
    storage.put("public/abc", b"\xff\xd8\xffphoto")
    assert storage.get("public/abc") == b"\xff\xd8\xffphoto"
    storage.put("public/abc", b"second")
    assert storage.get("public/abc") == b"second"
    storage.delete("public/abc")
    with pytest.raises(KeyError):
        storage.get("public/abc")
    storage.delete("public/abc")  # deleting twice is fine


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", ""])
def test_put_media_with_bad_key_is_refused(storage, key):
    with pytest.raises(ValueError):
        storage.put(key, b"x")


def test_s3_storage_keeps_objects_under_prefix(s3):
    storage, client = s3
    storage.put("original/xyz", b"data")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="media")["Contents"]]
    assert keys == ["event-intake/original/xyz"]


def test_upload_media_goes_to_s3_bucket_when_configured(s3, s3_endpoint, common_settings, token):
    from fastapi.testclient import TestClient

    from gridgov_event_intake.app import create_app
    from gridgov_event_intake.media.samples import GPS, jpeg
    from gridgov_event_intake.settings import IntakeSettings

    _, client = s3
    settings = IntakeSettings(common=common_settings, media_s3_bucket="media", media_s3_endpoint_url=s3_endpoint,
                              media_s3_region="us-east-1")
    with TestClient(create_app(settings)) as c:
        resp = c.post("/v1/media", content=jpeg(), headers={**token("citizen"), "Content-Type": "image/jpeg"})
        assert resp.status_code == 201, resp.text
        media_id = resp.json()["media_id"]
        assert c.get(f"/v1/media/{media_id}", headers=token("citizen")).content == jpeg(with_exif=False)
    public = client.get_object(Bucket="media", Key=f"event-intake/public/{media_id}")["Body"].read()
    assert GPS not in public
    assert not (common_settings.data_dir / "media").exists()
