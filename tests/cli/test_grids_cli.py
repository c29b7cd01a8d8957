"""``gridgov grids``: generate, import (dry run, all or nothing, effective date), export, list."""

import json
import subprocess
import sys

from gridgov_cli import grids as grids_cli
from gridgov_cli.main import main
from gridgov_grid_registry.grids.generator import SCALES


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gridgov_cli.main", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_scale_names_match_the_generator():
    assert set(grids_cli.SCALE_NAMES) == set(SCALES)


def test_generate_import_export_round_trip(tmp_path):
    data = str(tmp_path / "var")
    out = tmp_path / "dg.geojson"
    gen = run("grids", "generate", "--out", str(out))
    assert gen.returncode == 0, gen.stderr
    assert "grid polygons" in gen.stderr and "100%" in gen.stderr  # progress bars on stderr
    doc = json.loads(out.read_text())
    assert len(doc["features"]) == 33 + 593 + 2930

    dry = run("--data-dir", data, "grids", "import", str(out), "--dry-run", "--quiet")
    assert dry.returncode == 0 and "dry run: valid" in dry.stdout
    assert "import-" in dry.stdout

    done = run("--data-dir", data, "grids", "import", str(out), "--version", "city-2025",
               "--effective-from", "2025-01-01", "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in effect from 2025-01-01T00:00:00+08:00" in done.stdout

    listed = run("--data-dir", data, "grids", "list")
    assert listed.returncode == 0 and "* city-2025" in listed.stdout and "2930 grids" in listed.stdout

    again = run("--data-dir", data, "grids", "import", str(out), "--version", "city-2025", "--quiet")
    assert again.returncode == grids_cli.EXIT_CONFLICT and "already stored" in again.stderr

    exported = tmp_path / "towns.geojson"
    exp = run("--data-dir", data, "grids", "export", "--level", "town", "--out", str(exported), "--quiet")
    assert exp.returncode == 0, exp.stderr
    towns = json.loads(exported.read_text())
    assert towns["grid_set_version"] == "city-2025" and len(towns["features"]) == 33
    assert towns["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_import_invalid_file_names_features_and_imports_nothing(tmp_path, capsys):
    bad = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "441900101", "name": "石碣镇"},
         "geometry": {"type": "Polygon", "coordinates": [[[23.0, 113.8], [23.0, 113.9], [23.1, 113.9],
                                                          [23.0, 113.8]]]}},
        {"type": "Feature", "properties": {"code": "441900101001001", "name": ""}, "geometry": None}]}
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(bad))
    code = main(["--data-dir", str(tmp_path / "var"), "grids", "import", str(path), "--quiet"])
    out = capsys.readouterr().out
    assert code == grids_cli.EXIT_INVALID
    assert "features[0] 441900101 coordinate_order" in out
    assert "features[1] 441900101001001 name_missing" in out
    assert "nothing was imported" in out
    assert main(["--data-dir", str(tmp_path / "var"), "grids", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_import_bad_mapping_or_date_is_refused(tmp_path, capsys):
    path = tmp_path / "x.geojson"
    path.write_text("{}")
    assert main(["grids", "import", str(path), "--mapping", "colour=X"]) == grids_cli.EXIT_INVALID
    assert main(["grids", "import", str(path), "--effective-from", "soon"]) == grids_cli.EXIT_INVALID
    assert "unknown field" in capsys.readouterr().err
