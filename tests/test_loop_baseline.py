"""The benchmark's minimal pipeline (bench/loop_baseline.py) carries every report through its four stages once."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loop_baseline import STAGES, Baseline  # noqa: E402

BODY = {"category_code": "01002", "description": "baseline test", "lon": 113.75, "lat": 23.02}


def _rows(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text('SELECT report_id FROM "row"'))]
    finally:
        engine.dispose()


def test_embedded_baseline_carries_each_report_through_every_stage_once(tmp_path: Path) -> None:
    """20 reports posted → 20 rows in each stage's database, the same ids, none twice; bad bodies get a 422."""
    baseline = Baseline("embedded", tmp_path, max_seconds=300)
    baseline.start(timeout=300)
    try:
        with httpx.Client(timeout=30) as client:
            ids = [client.post(f"{baseline.url}/v1/reports/patrol", json=BODY).json()["report_id"] for _ in range(20)]
            assert client.post(f"{baseline.url}/v1/reports/patrol", json={"lon": "x"}).status_code == 422
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_rows(baseline.db_urls["notify"])) < len(ids):
            time.sleep(0.5)
        for stage in STAGES:
            rows = _rows(baseline.db_urls[stage])
            assert sorted(rows) == sorted(ids), stage
    finally:
        baseline.close()
    assert all(proc.poll() is not None for proc in baseline.procs.values())
