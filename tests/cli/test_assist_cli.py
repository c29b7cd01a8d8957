"""``gridgov assist train|eval`` on intake's SQLite database in a data directory, and the first model trained at
``gridgov up`` (a small training set: two generated texts per code)."""

from __future__ import annotations

import json

import pytest

from gridgov_cli import assist as assist_cli
from gridgov_cli import stack
from gridgov_cli.main import main


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDGOV_INTAKE_DATABASE_URL", raising=False)
    monkeypatch.setenv("GRIDGOV_DATA_DIR", str(tmp_path))
    return tmp_path


def test_assist_train_then_eval_prints_both_evaluations_and_the_figures(data_dir, capsys):
    assert main(["--data-dir", str(data_dir), "assist", "eval"]) == 1
    assert "no active model" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir), "assist", "train", "--per-code", "2", "--max-features", "4000",
                 "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["activated"] and trained["active_version"] is None and trained["active"] is None
    assert trained["eval_source"] == "eval_texts.tsv" and trained["candidate"]["texts"] >= 600
    assert trained["training"]["features"] <= 4000
    assert main(["--data-dir", str(data_dir), "assist", "eval", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["version"] == trained["version"]
    for key in ("top1", "top3", "department_top1", "macro_f1", "abstain_rate"):
        assert 0.0 <= figures[key] <= 1.0, key
    assert figures["top3"] == trained["candidate"]["top3"]  # the same model on the same texts
    assert len(figures["per_major"]) == 18 and "urban-management" in figures["confusion_by_department"]
    assert main(["--data-dir", str(data_dir), "assist", "eval"]) == 0
    text = capsys.readouterr().out
    assert "top-3" in text and "per major class" in text and "confusion by department" in text
    # At the next `gridgov up` a model is active: nothing is trained.
    assert assist_cli.ensure_demo_model(data_dir) is None


def test_ensure_demo_model_waits_for_intake_database(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDGOV_INTAKE_DATABASE_URL", raising=False)
    assert assist_cli.ensure_demo_model(tmp_path) is None  # intake has not migrated here: nothing to do
    assert not (tmp_path / "event-intake.db").exists()


def test_gridgov_up_reports_the_first_model_and_survives_a_failure(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GRIDGOV_ASSIST_TRAIN", raising=False)
    monkeypatch.setattr(assist_cli, "ensure_demo_model", lambda data_dir: {
        "version": "v1-x", "seconds": 31.5, "top3": 0.9, "department_top1": 0.93, "eval_source": "eval_texts.tsv"})
    stack._assist(tmp_path)
    assert "assist: classifier v1-x trained in 31.5 s" in capsys.readouterr().out

    def failing(data_dir):
        raise RuntimeError("disk full")

    monkeypatch.setattr(assist_cli, "ensure_demo_model", failing)
    stack._assist(tmp_path)
    assert "disk full" in capsys.readouterr().err
    monkeypatch.setenv("GRIDGOV_ASSIST_TRAIN", "0")
    monkeypatch.setattr(assist_cli, "ensure_demo_model", lambda data_dir: pytest.fail("trained although off"))
    stack._assist(tmp_path)
