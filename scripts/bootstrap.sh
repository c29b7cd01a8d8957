#!/usr/bin/env bash
# What running needs (README: `make up`): install uv (from PyPI) if missing and sync the workspace from the lock
# file without the test tools. `--inexact` keeps what `make test` added, so the two commands do not undo each other.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet "uv==0.13.8"
fi
uv sync --frozen --quiet --no-dev --inexact
