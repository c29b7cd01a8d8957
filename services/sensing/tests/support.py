"""Helpers of sensing's API tests: a stand-in for grid-registry's point lookup (an httpx mock transport over two
square grids), tokens, and the app on an embedded stack of its own."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from conftest import TEST_SECRET
from gridgov_common.auth import mint_token
from gridgov_common.settings import CommonSettings
from gridgov_sensing.app import create_app
from gridgov_sensing.devices.registry import RegistryClient
from gridgov_sensing.settings import SensingSettings

TOWN, VILLAGE = "441900001", "441900001001"
GRID_A, GRID_B = "441900001001001", "441900001001002"
# Two squares of 0.01°: A west of 113.71, B east of it; anything else is in no grid.
SQUARES = {GRID_A: (113.70, 23.00, 113.71, 23.01), GRID_B: (113.71, 23.00, 113.72, 23.01)}
IN_A, IN_B, NOWHERE = (113.705, 23.005), (113.715, 23.005), (100.0, 30.0)


class FakeRegistry:
    """grid-registry's ``POST /v1/locate/batch`` over the two squares; records each call's points and token."""

    def __init__(self) -> None:
        self.calls: list[list[list[float]]] = []
        self.tokens: list[str] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Answer a batch lookup as grid-registry does (503 while ``down``)."""
        assert request.url.path == "/v1/locate/batch", request.url
        if self.down:
            return httpx.Response(503, json={"error": {"code": "unavailable", "message": "down", "details": []}})
        points = json.loads(request.content)["points"]
        self.calls.append(points)
        self.tokens.append(request.headers.get("authorization", ""))
        return httpx.Response(200, json={"grid_set_version": "1", "crs": "wgs84", "count": len(points),
                                         "results": [self.locate(lon, lat) for lon, lat in points]})

    @staticmethod
    def locate(lon: float, lat: float) -> dict:
        """The location of one point."""
        for grid, (w, s, e, n) in SQUARES.items():
            if w <= lon < e and s <= lat < n:
                return {"status": "located", "grid_code": grid, "grid_name": f"网格{grid[-3:]}",
                        "village_code": VILLAGE, "village_name": "村", "town_code": TOWN, "town_name": "镇",
                        "grid_set_version": "1"}
        return {"status": "unlocated", "grid_set_version": "1"}


def bearer(role: str, **claims: str) -> dict[str, str]:
    """A bearer header of a role."""
    return {"Authorization": f"Bearer {mint_token(TEST_SECRET, sub=f'{role}-1', role=role, **claims)}"}


def sensing_client(data_dir: Path, registry: FakeRegistry, **settings) -> TestClient:
    """The sensing app on an embedded stack in ``data_dir``, grid-registry faked (enter it with ``with``)."""
    common = CommonSettings(data_dir=data_dir, jwt_secret=TEST_SECRET, log_json=False)
    client = RegistryClient("http://registry.test", lambda: "registry-token", transport=httpx.MockTransport(registry))
    return TestClient(create_app(SensingSettings(common=common, **settings), registry=client))
