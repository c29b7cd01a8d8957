"""The page's configuration (GET /api/config) and the policy the page is served with, with and without a base map."""

import httpx
import pytest
from fastapi.testclient import TestClient

from gridgov_common.auth import mint_token
from gridgov_common.settings import CommonSettings
from gridgov_console.app import create_app
from gridgov_console.settings import ConsoleSettings

SECRET = "console-config-test-secret-of-32-bytes-at-least"
TIANDITU = ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
            "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=city-key")


@pytest.fixture
def make_client(tmp_path):
    clients = []

    def make(**overrides) -> TestClient:
        settings = ConsoleSettings(common=CommonSettings(data_dir=tmp_path, jwt_secret=SECRET, log_json=False),
                                   **overrides)
        client = TestClient(create_app(settings))
        client.__enter__()
        client.app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _staff() -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, sub='cc', role='command_centre')}"}


def _image_sources(resp: httpx.Response) -> list[str]:
    policy = {d.split()[0]: d.split()[1:] for d in resp.headers["content-security-policy"].split("; ")}
    return policy["img-src"]


def test_answer_no_base_map_when_tile_url_unset(make_client):
    client = make_client()
    assert client.get("/api/config", headers=_staff()).json() == {"base_map": None}


def test_keep_images_to_own_origin_when_tile_url_unset(make_client):
    client = make_client()
    for path in ("/", "/map", "/tickets/abc"):
        assert _image_sources(client.get(path)) == ["'self'", "data:"]


def test_answer_base_map_when_tile_url_set(make_client):
    client = make_client(tile_url="https://tiles.example.gov.cn:8443/base/{z}/{x}/{y}.png",
                         tile_attribution="© 东莞市自然资源局", tile_max_zoom=19)
    assert client.get("/api/config", headers=_staff()).json() == {"base_map": {
        "url": "https://tiles.example.gov.cn:8443/base/{z}/{x}/{y}.png", "attribution": "© 东莞市自然资源局",
        "subdomains": "", "max_zoom": 19}}


def test_allow_images_from_tile_origin_only_when_tile_url_set(make_client):
    client = make_client(tile_url="https://tiles.example.gov.cn:8443/base/{z}/{x}/{y}.png")
    for path in ("/", "/map"):
        assert _image_sources(client.get(path)) == ["'self'", "data:", "https://tiles.example.gov.cn:8443"]


def test_allow_images_from_every_subdomain_when_tile_url_has_placeholder(make_client):
    client = make_client(tile_url=TIANDITU, tile_subdomains="01234567")
    assert _image_sources(client.get("/map")) == ["'self'", "data:", "https://*.tianditu.gov.cn"]
    assert client.get("/api/config", headers=_staff()).json()["base_map"]["subdomains"] == "01234567"


def test_refuse_config_before_sign_in(make_client):
    # a city's tile URL may carry its access key (天地图's tk): only signed-in staff see it
    client = make_client(tile_url=TIANDITU)
    resp = client.get("/api/config")
    assert resp.status_code == 401
    assert "city-key" not in resp.text


@pytest.mark.parametrize("url", [
    "ftp://tiles.example.org/{z}/{x}/{y}.png",
    "https://tiles.example.org/{z}/{x}.png",
    "https://tiles.example.org;script-src *;/{z}/{x}/{y}.png",
    "https://ti{s}les.{s}.example.org/{z}/{x}/{y}.png",
    "https://user:pw@tiles.example.org/{z}/{x}/{y}.png",
    "//tiles.example.org/{z}/{x}/{y}.png",
])
def test_refuse_tile_url_the_policy_cannot_name(url, tmp_path):
    with pytest.raises(ValueError, match="tile_url"):
        ConsoleSettings(tile_url=url, common=CommonSettings(data_dir=tmp_path, jwt_secret=SECRET))


def test_read_empty_tile_url_as_unset(tmp_path):
    settings = ConsoleSettings(tile_url="", common=CommonSettings(data_dir=tmp_path, jwt_secret=SECRET))
    assert settings.tile_url is None
