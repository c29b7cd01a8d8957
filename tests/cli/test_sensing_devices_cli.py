"""``gridgov sensing devices generate|import`` against a running grid-registry (the demo city's grid set): devices
placed in the grids, the same for the same seed, stored in sensing's database; a file imported all or nothing;
``gridgov up``'s demo devices placed once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gridgov_cli.main import main
from gridgov_cli.presence import read_demo_list
from gridgov_cli.sensing import ensure_demo_devices
from tests.support.stack import SECRET, Stack


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """grid-registry alone on the embedded stack (the demo city's grids are seeded at its start)."""
    stack = Stack("embedded", tmp_path_factory.mktemp("registry"))
    stack.start(["grid-registry"])
    yield stack
    stack.close()


@pytest.fixture
def cli_env(registry, monkeypatch):
    """The CLI's environment: the stack's secret and grid-registry's port (what `gridgov up` gives it)."""
    monkeypatch.setenv("GRIDGOV_JWT_SECRET", SECRET)
    monkeypatch.setenv("GRIDGOV_REGISTRY_PORT", str(registry.ports["grid-registry"]))
    monkeypatch.delenv("GRIDGOV_SENSING_DATABASE_URL", raising=False)
    monkeypatch.delenv("GRIDGOV_KAFKA_BOOTSTRAP_SERVERS", raising=False)


def devices(data: Path) -> list[tuple]:
    """Every stored device: id, kind, position, grid."""
    engine = create_engine(f"sqlite:///{data / 'sensing.db'}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT device_id, kind, lon, lat, grid_code, village_code, town_code FROM device ORDER BY device_id"))]
    finally:
        engine.dispose()


def test_generate_places_the_same_devices_for_the_same_seed(tmp_path, cli_env, capsys):
    runs = []
    for name in ("a", "b"):
        data = tmp_path / name
        assert main(["--data-dir", str(data), "sensing", "devices", "generate", "--count", "3000", "--seed", "16",
                     "--quiet"]) == 0
        runs.append(devices(data))
    assert "3000 placed" in capsys.readouterr().out
    assert runs[0] == runs[1] and len(runs[0]) == 3000
    kinds = [row[1] for row in runs[0]]
    assert kinds.count("camera") == 2400 and kinds.count("sensor") == 600
    cameras = [row[0] for row in runs[0] if row[1] == "camera"]
    assert all(len(c) == 20 and c.isdigit() for c in cameras)
    assert all(row[4].startswith(row[5]) and row[5].startswith(row[6]) for row in runs[0])  # grid ⊂ village ⊂ town


def test_import_stores_every_device_or_none(tmp_path, cli_env, capsys):
    data = tmp_path / "var"
    header = "device_id,kind,name,lon,lat,owner_department,algorithms"
    good = [f"IOT-smoke-{i},sensor,烟感{i},{113.75 + i * 0.0001:.6f},23.02,fire-safety,smoke_detector"
            for i in range(200)]
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([header, *good[:5], "IOT-far,sensor,远处,100.0,30.0,,smoke_detector"]) + "\n")
    assert main(["--data-dir", str(data), "sensing", "devices", "import", str(bad), "--quiet"]) == 1
    assert "rows[5].lon" in capsys.readouterr().err
    assert devices(data) == []
    ok = tmp_path / "good.csv"
    ok.write_text("\n".join([header, *good]) + "\n")
    assert main(["--data-dir", str(data), "sensing", "devices", "import", str(ok), "--quiet"]) == 0
    assert "200 new, 0 replaced" in capsys.readouterr().out
    stored = devices(data)
    assert len(stored) == 200
    assert all(row[4].startswith("4419") and len(row[4]) == 15 for row in stored)  # each placed in a grid


def test_demo_devices_are_placed_once(tmp_path, registry, cli_env):
    url = registry.url("grid-registry")
    first = ensure_demo_devices(tmp_path, url, 500)
    assert first is not None and first["new"] == 500
    assert ensure_demo_devices(tmp_path, url, 500) is None
    stored = devices(tmp_path)
    assert len(stored) == 500
    # listed for the demo gateway (``gridgov_cli.presence``) with kind, village and algorithms: the devices stored
    listed = read_demo_list(tmp_path)
    assert sorted((d.device_id, d.kind, d.village) for d in listed) == [(row[0], row[1], row[5]) for row in stored]
    assert all(d.algorithms for d in listed)
