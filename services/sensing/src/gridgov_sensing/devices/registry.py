"""grid-registry's point lookup over HTTP (``POST /v1/locate/batch``): the one call sensing makes to another
service, once per device registered or moved (never per alarm)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from gridgov_common.errors import Unavailable

BATCH = 10_000  # grid-registry's largest batch


@dataclass(frozen=True)
class GridPlace:
    """Where a point fell: its grid, village and town (None when it is in no grid)."""

    grid_code: str | None
    village_code: str | None
    town_code: str | None


class RegistryClient:
    """Locates points in grid-registry's grid set in effect, in batches of up to 10,000."""

    def __init__(self, base_url: str, token: Callable[[], str], timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def locate(self, points: Sequence[tuple[float, float]],
               progress: Callable[[int], None] | None = None) -> list[GridPlace]:
        """The grid of each WGS84 point, in order; raises ``Unavailable`` when grid-registry does not answer.
        ``progress`` hears how many points each answered batch held."""
        places: list[GridPlace] = []
        for start in range(0, len(points), BATCH):
            chunk = [[lon, lat] for lon, lat in points[start:start + BATCH]]
            try:
                resp = self._client.post(f"{self.base_url}/v1/locate/batch", json={"points": chunk},
                                         headers={"Authorization": f"Bearer {self.token()}"})
            except httpx.HTTPError as exc:
                raise Unavailable(f"grid-registry did not answer: {type(exc).__name__}") from exc
            if resp.status_code != 200:
                raise Unavailable(f"grid-registry answered {resp.status_code} to a grid lookup")
            for result in resp.json()["results"]:
                located = result.get("status") == "located"
                places.append(GridPlace(result.get("grid_code") if located else None,
                                        result.get("village_code") if located else None,
                                        result.get("town_code") if located else None))
            if progress is not None:
                progress(len(chunk))
        return places

    def token(self) -> str:
        """The bearer token this client shows grid-registry now (other calls to its API use it too)."""
        return self._token()

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()
