#!/usr/bin/env bash
# What only the tests need (README: `make test`): the workspace with its dev group (pytest, schemathesis, selenium…)
# and, for the console's browser tests (tests/browser), Debian's chromium with its chromedriver and a CJK font so the
# screenshots show the Chinese UI. Installed once; skipped when present or when not root (the browser tests then skip
# loudly, or fail under GRIDGOV_REQUIRE_INFRA=1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
uv sync --frozen --quiet --compile-bytecode  # see bootstrap.sh: the dev group's bytecode too
if ! { command -v chromium && command -v chromedriver && fc-list :lang=zh | grep -q .; } >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-wqy-zenhei fontconfig >/dev/null
  else
    echo "test-deps: chromium/chromedriver missing and cannot apt-get install: browser tests will skip" >&2
  fi
fi
