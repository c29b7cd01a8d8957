"""The seat assistant's classifier is loaded in the background after startup (issue #17): startup and ``/readyz``
do not wait for it, and the first classify finds the active version already loaded."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from gridgov_event_intake.app import create_app
from gridgov_event_intake.assist import service, training
from gridgov_event_intake.assist.model import Classifier
from gridgov_event_intake.assist.models import AssistModel
from gridgov_event_intake.settings import IntakeSettings

LOAD_TIMEOUT_S = 120  # a loaded shared machine: the segmenter's dictionary may take tens of seconds


@pytest.fixture(scope="module")
def small_model() -> bytes:
    """A small model of the catalog's own texts."""
    artefact, _ = training.fit(training.catalog_examples(), training.catalog_words(), "v-pre")
    return artefact.to_bytes()


def test_startup_and_readyz_do_not_wait_for_the_classifier(common_settings, monkeypatch):
    release, asked = threading.Event(), []

    def slow_load(db):  # a classifier that takes as long as the test wants to load
        asked.append(db)
        release.wait(LOAD_TIMEOUT_S)
        return Classifier(None)

    monkeypatch.setattr(service, "current_classifier", slow_load)
    try:
        with TestClient(create_app(IntakeSettings(common=common_settings))) as client:
            runtime = client.app.state.runtime
            assert client.get("/readyz").status_code == 200  # the load is still going on
            assert runtime.assist_preload is not None and runtime.assist_preload.is_alive()
            release.set()
            runtime.assist_preload.join(LOAD_TIMEOUT_S)
            assert not runtime.assist_preload.is_alive()
            assert asked == [runtime.db]
    finally:
        release.set()


def test_a_failing_preload_leaves_the_service_up(common_settings, monkeypatch, token):
    def broken(_db):
        raise RuntimeError("database gone")

    monkeypatch.setattr(service, "current_classifier", broken)
    with TestClient(create_app(IntakeSettings(common=common_settings))) as client:
        client.app.state.runtime.assist_preload.join(LOAD_TIMEOUT_S)
        assert client.get("/readyz").status_code == 200


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def database_url(request) -> str | None:
    """SQLite in the data directory, then a fresh PostgreSQL database."""
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else None


def test_startup_preloads_the_active_version_so_the_first_classify_loads_nothing(common_settings, database_url,
                                                                                 small_model, monkeypatch, token):
    settings = IntakeSettings(common=common_settings, database_url=database_url)
    with TestClient(create_app(settings)) as client:  # the first start: a version is trained and activated
        db = client.app.state.runtime.db
        client.app.state.runtime.assist_preload.join(LOAD_TIMEOUT_S)
        with db.session() as session:
            service.add_model(session, AssistModel(version="v-pre", created_at=datetime.now(UTC),
                                                   artefact=small_model), activate=True)
            session.commit()
        service.forget(db)
    with TestClient(create_app(settings)) as client:  # the next start finds it and loads it in the background
        runtime = client.app.state.runtime
        runtime.assist_preload.join(LOAD_TIMEOUT_S)
        assert not runtime.assist_preload.is_alive()
        cached = service._cache.get(runtime.db)
        assert cached is not None and cached.version == "v-pre" and cached.classifier.version == "v-pre"

        def no_loading(_data):
            raise AssertionError("the first classify loaded the classifier again")

        monkeypatch.setattr(Classifier, "from_bytes", staticmethod(no_loading))
        resp = client.post("/v1/assist/classify", json={"text": "路边有无照经营的游商在卖东西"},
                           headers=token("command_centre"))
        assert resp.status_code == 200, resp.text
        assert resp.json()["model_version"] == "v-pre" and resp.json()["suggestions"]
