#!/usr/bin/env bash
# Build the console's front end (services/console/frontend: Vue 3 + Element Plus, from npm with a lock file) into
# the console package (static/app/), and stamp the build with a digest of its sources so a test can tell when the
# committed build is older than its sources. Running the console never needs Node: the build is committed.
set -euo pipefail
cd "$(dirname "$0")/../services/console/frontend"
# One build at a time on this machine: `npm ci` replaces node_modules and the build empties static/app/.
exec 9>"${TMPDIR:-/tmp}/gridgov-console-build.lock"
flock 9
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
npm run build --silent
python3 ../../../scripts/console_build_digest.py > ../src/gridgov_console/static/app/BUILD
echo "built the console into services/console/src/gridgov_console/static/app ($(cat ../src/gridgov_console/static/app/BUILD))"
