"""One sensing app on the embedded stack per test package, grid-registry faked (helpers in ``tests/support.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.sensing.tests.support import FakeRegistry, sensing_client


@pytest.fixture(scope="package")
def registry() -> FakeRegistry:
    """The stand-in for grid-registry's point lookup."""
    return FakeRegistry()


@pytest.fixture(scope="package")
def client(tmp_path_factory, registry) -> Iterator[TestClient]:
    """The sensing app (shared by the package's tests)."""
    with sensing_client(tmp_path_factory.mktemp("sensing"), registry) as c:
        yield c
