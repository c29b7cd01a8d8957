"""Fixtures shared by gridgov_common's unit tests."""

from __future__ import annotations

import pytest

from gridgov_common.db import Database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """The test module's ``METADATA`` as a Database on each backend: a SQLite file, and PostgreSQL with the
    real-stack env (``pg_url``)."""
    url = (f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    database = Database(url, request.module.METADATA, request.module.__name__.rsplit(".", 1)[-1])
    database.create_all()
    yield database
    database.dispose()
