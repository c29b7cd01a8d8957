"""Heavy modules stay out of the services' processes until an endpoint needs them (issue #18: peak RSS).

Each service's app is imported in a fresh interpreter, as ``python -m gridgov_<service>`` does before serving;
the modules listed must not be loaded by then. sklearn must never load in a service (training runs in the CLI).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NEVER = ("sklearn",)
# module → heavy packages only its rare endpoints need (measured: bm25s + scipy.sparse ~28 MB over numpy in
# event-intake, which no longer uses datasketch (+57 MB: scipy.integrate); numpy + shapely ~20 MB in dispatch,
# needed by the geofence check of on-site evidence only).
LAZY = {
    "gridgov_event_intake.app": ("bm25s", "scipy"),
    "gridgov_dispatch.app": ("numpy", "shapely"),
    "gridgov_grid_registry.app": (),
    "gridgov_notification.app": ("numpy", "shapely"),
    "gridgov_sensing.app": ("scipy",),
    "gridgov_analytics.app": ("scipy",),
    "gridgov_console.app": ("numpy", "shapely"),
}


@pytest.mark.parametrize("module", sorted(LAZY))
def test_heavy_modules_not_loaded_at_import(module: str, tmp_path) -> None:
    """Importing the app loads none of the heavy packages its hot path does not use."""
    code = (f"import importlib, json, sys; importlib.import_module({module!r}); "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"GRIDGOV_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert loaded & set(NEVER + LAZY[module]) == set()
