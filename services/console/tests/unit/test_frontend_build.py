"""The committed front-end build matches its sources (the console serves the build; nobody runs Node to start it)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
BUILD = ROOT / "services" / "console" / "src" / "gridgov_console" / "static" / "app"


def _digest_module():
    spec = importlib.util.spec_from_file_location("console_build_digest", ROOT / "scripts" / "console_build_digest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_stamp_matches_frontend_sources():
    """A source changed without `scripts/build_console.sh` leaves the page serving old code: the stamp tells."""
    stamp = (BUILD / "BUILD").read_text().strip()
    assert stamp == _digest_module().source_digest(), "run scripts/build_console.sh and commit static/app/"


def test_digest_changes_when_a_source_changes(tmp_path):
    """The stamp can fail: one changed byte in one source file gives another digest."""
    module = _digest_module()
    root = tmp_path / "frontend"
    (root / "src").mkdir(parents=True)
    for name in module.INPUTS:
        (root / name).write_text("x")
    (root / "src" / "main.js").write_text("a")
    before = module.source_digest(root)
    (root / "src" / "main.js").write_text("b")
    assert module.source_digest(root) != before


def test_page_loads_only_built_files():
    """The entry page names only the console's own built files (no CDN, no inline script)."""
    page = (BUILD / "index.html").read_text()
    assert '<script type="module" crossorigin src="/static/app/app.js"></script>' in page
    assert "http://" not in page and "https://" not in page
    assert "<script>" not in page
