#!/usr/bin/env bash
# Starts the local stack (Temporal dev server + MinIO) on loopback, detached, with state under
# $SWEEP_STACK_DIR (default <repo>/.stack). Starts only what is not already running and healthy.
#
# Usage: infra/stack-up.sh [temporal|minio ...] [--no-setup]
#   no component   start both (and create the bucket)
#   temporal       start only the Temporal dev server
#   minio          start only MinIO (and create the bucket)
#   --no-setup     skip infra/setup.sh (tools must already be installed)
#
# Environment: TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), MINIO_PORT (9000),
#   MINIO_CONSOLE_PORT (9001), S3_BUCKET (sweep-artifacts), STACK_START_TIMEOUT (seconds, 120).
#   Ports set once are kept in .stack/ports.env for later runs.
#
# Writes .stack/stack.env (KEY='VALUE' lines) for clients, .stack/aws-credentials (profile
# sweep-local, mode 600) and, once, .stack/minio-credentials.env (MinIO root user, mode 600).
set -euo pipefail

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
log() { printf '[stack-up] %s\n' "$*"; }
die() { printf '[stack-up] ERROR: %s\n' "$*" >&2; exit 1; }
mkdir -p -- "$STACK_DIR"
STACK_DIR="$(cd -- "$STACK_DIR" && pwd -P)"

BIN_DIR="$STACK_DIR/bin"
RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/logs"
DATA_DIR="$STACK_DIR/data"
TEMPORAL="$BIN_DIR/temporal"
MINIO="$BIN_DIR/minio"
# CLI calls against our own dev server ignore the caller's Temporal profiles/env (TLS, API keys).
TCTL_CONNECTION=(--disable-config-file --disable-config-env)

# Ports: the environment's, else those of the last start (a server may still run on them, and
# stack.env must keep pointing there), else the defaults.
PORTS_FILE="$STACK_DIR/ports.env"
for port_var in TEMPORAL_PORT TEMPORAL_UI_PORT MINIO_PORT MINIO_CONSOLE_PORT; do
  previous="$(sed -n "s/^$port_var=\([0-9]*\)$/\1/p" "$PORTS_FILE" 2>/dev/null || true)"
  if [[ -z "${!port_var:-}" ]]; then
    declare "$port_var=$previous"
  elif [[ -n "$previous" && "${!port_var}" != "$previous" ]] && { live_pid temporal >/dev/null || live_pid minio >/dev/null; }; then
    die "$port_var=${!port_var}, but the running stack uses $previous: stop it first (npm run stack:down), then start it on the new ports"
  fi
done
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
MINIO_PORT="${MINIO_PORT:-9000}"
MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-9001}"
printf 'TEMPORAL_PORT=%s\nTEMPORAL_UI_PORT=%s\nMINIO_PORT=%s\nMINIO_CONSOLE_PORT=%s\n' \
  "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$MINIO_PORT" "$MINIO_CONSOLE_PORT" >"$PORTS_FILE"
PORT_SETTINGS="set other ones, e.g. TEMPORAL_PORT=7300 npm run stack:up: TEMPORAL_PORT, TEMPORAL_UI_PORT, MINIO_PORT, MINIO_CONSOLE_PORT (later runs keep them)"
S3_BUCKET="${S3_BUCKET:-sweep-artifacts}"
START_TIMEOUT="${STACK_START_TIMEOUT:-120}"

HOST=127.0.0.1
TEMPORAL_ADDRESS="$HOST:$TEMPORAL_PORT"
TEMPORAL_NAMESPACE=default
S3_ENDPOINT="http://$HOST:$MINIO_PORT"

ENV_FILE="$STACK_DIR/stack.env"
AWS_CREDS_FILE="$STACK_DIR/aws-credentials"
MINIO_CREDS_FILE="$STACK_DIR/minio-credentials.env"
AWS_PROFILE_NAME=sweep-local

# SEARCH_ATTRIBUTES: infra/common.sh

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

want_temporal=0
want_minio=0
run_setup=1
for arg in "$@"; do
  case "$arg" in
    temporal) want_temporal=1 ;;
    minio) want_minio=1 ;;
    --no-setup) run_setup=0 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done
if (( want_temporal == 0 && want_minio == 0 )); then
  want_temporal=1
  want_minio=1
fi

if (( run_setup )); then
  bash "$SCRIPT_DIR/setup.sh"
fi
[[ -x "$TEMPORAL" ]] || die "$TEMPORAL missing; run infra/setup.sh"
[[ -x "$MINIO" ]] || die "$MINIO missing; run infra/setup.sh"

mkdir -p -- "$RUN_DIR" "$LOG_DIR" "$DATA_DIR/temporal" "$DATA_DIR/minio" "$STACK_DIR/config/minio-certs"

# One stack-up/stack-down at a time. The lock fd is closed for the servers we spawn (9>&-).
exec 9>"$RUN_DIR/stack.lock"
flock -w 300 9 || die "timed out waiting for another stack-up/stack-down (lock $RUN_DIR/stack.lock)"

# --- helpers: port_in_use, spawn, wait_healthy, ensure_running (infra/common.sh) -------------------

# --- Temporal -----------------------------------------------------------------------------------

start_temporal() {
  local args=(server start-dev
    --ip "$HOST" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --db-filename "$DATA_DIR/temporal/temporal.db"
    # Write-ahead log: a commit is one fsync of the log instead of the rollback journal's three or
    # four, with the same durability (synchronous=full). It cut the server's CPU by a fifth to a
    # third and a warm grid sweep by ~7% on the 2-core machine (docs/benchmark.md, cut 12).
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=full
    --namespace "$TEMPORAL_NAMESPACE"
    --ui-disable-news-fetch
    # No call home to check for a newer server: nothing outside is reachable (the SDKs' test servers do the same).
    --dynamic-config-value frontend.enableServerVersionCheck=false
    --log-level warn)
  local sa
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  log "temporal: starting dev server on $TEMPORAL_ADDRESS (UI port $TEMPORAL_UI_PORT) ..."
  spawn temporal -- "$TEMPORAL" "${args[@]}"
}

# ensure_search_attributes: infra/common.sh

# --- MinIO --------------------------------------------------------------------------------------

start_minio() {
  log "minio: starting on $HOST:$MINIO_PORT (console $HOST:$MINIO_CONSOLE_PORT) ..."
  # Credentials go in through the environment, never on the command line. The scanner (data-usage
  # figures, lifecycle rules, healing) runs at its slowest pace: on one drive beside the workers there
  # is nothing to heal and no lifecycle rule, and at its default pace it took 15-20% of a core for half
  # of every minute once the bucket held many objects (about 100,000), CPU the workers then lacked.
  spawn minio \
    "MINIO_ROOT_USER=$MINIO_ROOT_USER" "MINIO_ROOT_PASSWORD=$MINIO_ROOT_PASSWORD" \
    MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off MINIO_SCANNER_SPEED=slowest \
    -- "$MINIO" server "$DATA_DIR/minio" \
    --address "$HOST:$MINIO_PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT" \
    --certs-dir "$STACK_DIR/config/minio-certs"
}

# load_minio_credentials, write_client_files, create_bucket: infra/common.sh

# --- main ---------------------------------------------------------------------------------------

load_minio_credentials
write_client_files

if (( want_temporal )); then
  ensure_running temporal "$TEMPORAL_PORT" temporal_healthy start_temporal
  ensure_search_attributes
fi
if (( want_minio )); then
  ensure_running minio "$MINIO_PORT" minio_healthy start_minio
  create_bucket
fi

cat <<EOF
[stack-up] ready:
  Temporal   $TEMPORAL_ADDRESS (namespace $TEMPORAL_NAMESPACE)$( (( want_temporal )) || printf ' [not checked]')
  Web UI     http://$HOST:$TEMPORAL_UI_PORT
  MinIO      $S3_ENDPOINT (bucket $S3_BUCKET)$( (( want_minio )) || printf ' [not checked]')
  Console    http://$HOST:$MINIO_CONSOLE_PORT (login: see $MINIO_CREDS_FILE)
  Env file   $ENV_FILE   (bash: set -a; . $(printf %q "$ENV_FILE"); set +a)
  Logs       $LOG_DIR/{temporal,minio}.log
EOF
