#!/usr/bin/env bash
# Install uv (from PyPI) if missing and sync the workspace from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet "uv==0.13.8"
fi
uv sync --frozen --quiet

# The console's browser tests (tests/browser) drive Debian's chromium through its chromedriver (Selenium), with a
# CJK font so the screenshots show the Chinese UI. Installed once; skipped when present or when not root (the
# tests then skip loudly, or fail under GRIDGOV_REQUIRE_INFRA=1).
if ! { command -v chromium && command -v chromedriver && fc-list :lang=zh | grep -q .; } >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-wqy-zenhei fontconfig >/dev/null
  else
    echo "bootstrap: chromium/chromedriver missing and cannot apt-get install: browser tests will skip" >&2
  fi
fi
