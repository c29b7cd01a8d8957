#!/usr/bin/env bash
# Bring up the local dev/CI infra (Kafka KRaft + PostgreSQL/PostGIS + the Mosquitto
# MQTT broker, loopback only), create the service databases, then print `export ...` lines for the
# services on stdout (progress goes to stderr):
#
#   eval "$(deploy/local/up.sh)"        # or: deploy/local/up.sh && . ~/.cache/gridgov-infra/env.sh
#
# Idempotent: already-installed/running pieces are skipped. Optional args: database names.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_TAG=up
# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$SCRIPT_DIR/_common.sh"

start=$(now)
"$SCRIPT_DIR/postgres.sh" start >&2
"$SCRIPT_DIR/kafka.sh" start >&2
"$SCRIPT_DIR/mosquitto.sh" start >&2
"$SCRIPT_DIR/postgres.sh" wait >&2
"$SCRIPT_DIR/postgres.sh" createdb "$@" >&2
"$SCRIPT_DIR/kafka.sh" wait >&2
"$SCRIPT_DIR/mosquitto.sh" wait >&2

{
  "$SCRIPT_DIR/env.sh" "$@"
  # The sensing service subscribes to the broker for sensor alarms when this is set.
  echo "export GRIDGOV_SENSING_MQTT_URL=mqtt://$LOOPBACK:${MQTT_PORT:-11883}"
} >"$GRIDGOV_INFRA_DIR/env.sh"
log "infra up in $(($(now) - start))s; env also written to $GRIDGOV_INFRA_DIR/env.sh"
cat "$GRIDGOV_INFRA_DIR/env.sh"
