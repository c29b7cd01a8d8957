#!/usr/bin/env bash
# Stop the local dev/CI infra started by up.sh.
#   deploy/local/down.sh           stop Kafka, PostgreSQL and Mosquitto (data kept)
#   deploy/local/down.sh --reset   stop and delete their data (downloaded jars/packages kept)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
action=stop
case ${1:-} in
  "") ;;
  --reset) action=reset ;;
  *) echo "usage: $0 [--reset]" >&2; exit 2 ;;
esac

rc=0
"$SCRIPT_DIR/kafka.sh" "$action" || rc=1
"$SCRIPT_DIR/postgres.sh" "$action" || rc=1
"$SCRIPT_DIR/mosquitto.sh" "$action" || rc=1
exit "$rc"
