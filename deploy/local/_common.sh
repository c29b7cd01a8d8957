# shellcheck shell=bash
# Shared helpers for deploy/local/*.sh. Sourced, not executed.
#
# GRIDGOV_INFRA_DIR  root for downloaded artifacts (cache) and runtime data.
#                    Default: $HOME/.cache/gridgov-infra

GRIDGOV_INFRA_DIR=${GRIDGOV_INFRA_DIR:-${HOME:?HOME is not set}/.cache/gridgov-infra}
# Everything in deploy/local binds here, never to 0.0.0.0.
LOOPBACK=127.0.0.1

log() { printf '[%s] %s\n' "${LOG_TAG:-local}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# take_lock NAME: serialize mutating commands (install/start/stop/reset) across
# concurrent invocations. Holds fd 9 until the script exits; daemons started
# while holding it must be spawned with `9>&-` or they would keep the lock.
take_lock() {
  mkdir -p "$GRIDGOV_INFRA_DIR"
  exec 9>"$GRIDGOV_INFRA_DIR/.$1.lock"
  flock -w 600 9 || die "could not lock $GRIDGOV_INFRA_DIR/.$1.lock within 600 s"
}

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$LOOPBACK" "$1" 2>/dev/null
}

now() { date +%s; }
