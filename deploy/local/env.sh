#!/usr/bin/env bash
# Print the environment for gridgov services to use the local infra started by
# up.sh, as `export X=...` lines on stdout:   eval "$(deploy/local/env.sh)"
# Database names (or GRIDGOV_LOCAL_DBS) map gridgov_<svc> -> GRIDGOV_<SVC>_DATABASE_URL.
# DEV/CI ONLY credentials (gridgov/gridgov on a loopback-only, trust-auth cluster).
set -euo pipefail

KAFKA_PORT=${KAFKA_PORT:-19092}
PG_PORT=${PG_PORT:-15432}
read -r -a dbs <<<"${GRIDGOV_LOCAL_DBS:-gridgov_intake gridgov_registry gridgov_dispatch gridgov_notification gridgov_analytics gridgov_sensing}"
(($# == 0)) || dbs=("$@")

echo "export GRIDGOV_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT"
for db in "${dbs[@]}"; do
  svc=${db#gridgov_}
  echo "export GRIDGOV_${svc^^}_DATABASE_URL=postgresql+psycopg://gridgov:gridgov@127.0.0.1:$PG_PORT/$db"
done
