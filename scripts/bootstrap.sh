#!/usr/bin/env bash
# Install uv (from PyPI) if missing and sync the workspace from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet "uv==0.13.8"
fi
uv sync --frozen --quiet
