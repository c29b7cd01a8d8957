#!/usr/bin/env bash
# What running needs (README: `make up`): install uv (from PyPI) if missing and sync the workspace from the lock
# file without the test tools. `--inexact` keeps what `make test` added, so the two commands do not undo each other.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet "uv==0.13.8"
fi
# Bytecode compiled once here: a shell with PYTHONDONTWRITEBYTECODE=1 (as on the CI machine) otherwise recompiles
# SQLAlchemy, FastAPI and pydantic from source at every process start — 2.5 CPU-s per service, 6 per stack.
uv sync --frozen --quiet --no-dev --inexact --compile-bytecode
uv run --frozen --no-sync python -m compileall -q -j 0 libs/common/src cli/src services/*/src >/dev/null
