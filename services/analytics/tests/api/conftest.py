"""One analytics app on the embedded stack per test package (its helpers are in ``tests/support.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_SECRET
from gridgov_analytics.app import create_app
from gridgov_analytics.settings import AnalyticsSettings
from gridgov_common.settings import CommonSettings


@pytest.fixture(scope="package")
def app_client(tmp_path_factory) -> Iterator[TestClient]:
    """The analytics app on an embedded stack of its own (shared by the package's tests)."""
    common = CommonSettings(data_dir=tmp_path_factory.mktemp("analytics"), jwt_secret=TEST_SECRET, log_json=False)
    with TestClient(create_app(AnalyticsSettings(common=common, generation_poll_s=0.2))) as client:
        yield client
