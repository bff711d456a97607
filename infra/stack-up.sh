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
#
# Writes .stack/stack.env (KEY=VALUE lines) for clients, .stack/aws-credentials (profile
# sweep-local, mode 600) and, once, .stack/minio-credentials.env (MinIO root user, mode 600).
set -euo pipefail

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
mkdir -p -- "$STACK_DIR"
STACK_DIR="$(cd -- "$STACK_DIR" && pwd -P)"

BIN_DIR="$STACK_DIR/bin"
RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/logs"
DATA_DIR="$STACK_DIR/data"
TEMPORAL="$BIN_DIR/temporal"
MINIO="$BIN_DIR/minio"
# CLI calls against our own dev server ignore the caller's Temporal profiles/env (TLS, API keys).
TCTL_ISOLATION=(--disable-config-file --disable-config-env)

TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
MINIO_PORT="${MINIO_PORT:-9000}"
MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-9001}"
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

# Search attributes the sweep workflows upsert; registered by the dev server at every start.
# The dev server's SQLite visibility store has at most 3 custom attributes per numeric type
# (a 4th Int fails the start with "cannot have more than 3 search attributes of type Int"),
# so the sweep keeps to three Ints (done, running, failed). They must match SEARCH_ATTRIBUTES in
# workflows/contract.ts. Changing a type later needs `stack-down.sh temporal --purge`.
SEARCH_ATTRIBUTES=(
  SweepName=Keyword
  SweepTrialsDone=Int
  SweepTrialsRunning=Int
  SweepTrialsFailed=Int
  SweepBestValAccuracy=Double
  SweepStatus=Keyword
)

log() { printf '[stack-up] %s\n' "$*"; }
die() { printf '[stack-up] ERROR: %s\n' "$*" >&2; exit 1; }

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

# --- helpers ------------------------------------------------------------------------------------


port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

temporal_healthy() {
  "$TEMPORAL" operator cluster health "${TCTL_ISOLATION[@]}" --address "$TEMPORAL_ADDRESS" --command-timeout 3s >/dev/null 2>&1 &&
    "$TEMPORAL" operator namespace describe "${TCTL_ISOLATION[@]}" --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
      --command-timeout 3s >/dev/null 2>&1
}

minio_healthy() {
  curl -fsS --noproxy "*" --max-time 3 -o /dev/null "$S3_ENDPOINT/minio/health/live" 2>/dev/null
}

# spawn <name> <env-assignments...> -- <binary> <args...>
# Runs the server in its own session, detached from this shell, appending to logs/<name>.log and
# writing the server's own pid (the bash -c process execs into it) to run/<name>.pid.
# Environment assignments are exported in a subshell, so they never appear on a command line.
spawn() {
  local name="$1"; shift
  local envs=()
  while [[ "$1" != "--" ]]; do envs+=("$1"); shift; done
  shift
  local pidfile="$RUN_DIR/$name.pid" logfile="$LOG_DIR/$name.log"
  rm -f -- "$pidfile"
  printf '=== %s: starting %s (stack-up) ===\n' "$(date -u +%FT%TZ)" "$name" >>"$logfile"
  (
    for kv in "${envs[@]}"; do export "${kv?}"; done
    # shellcheck disable=SC2016  # $$ and $@ expand in the child bash
    setsid nohup bash -c 'echo $$ >"$0.tmp" && mv -f -- "$0.tmp" "$0" && exec "$@"' \
      "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null 9>&- &
  )
  local i
  for ((i = 0; i < 100; i++)); do
    live_pid "$name" >/dev/null && return 0
    sleep 0.1
  done
  tail -n 20 -- "$logfile" >&2 || true
  die "$name did not start; see $logfile"
}

# wait_healthy <name> <check-function>
wait_healthy() {
  local name="$1" check="$2" logfile="$LOG_DIR/$1.log" deadline=$((SECONDS + START_TIMEOUT))
  while ! "$check"; do
    if ! live_pid "$name" >/dev/null; then
      printf '[stack-up] last lines of %s:\n' "$logfile" >&2
      tail -n 20 -- "$logfile" >&2 || true
      die "$name exited during startup; see $logfile"
    fi
    if (( SECONDS >= deadline )); then
      die "$name not healthy after ${START_TIMEOUT}s (pid $(live_pid "$name")); see $logfile"
    fi
    sleep 0.5
  done
}

# ensure_running <name> <port> <check-function> <start-function>
ensure_running() {
  local name="$1" port="$2" check="$3" start="$4" pid
  if pid="$(live_pid "$name")"; then
    if "$check"; then
      log "$name: already running (pid $pid)"
      return 0
    fi
    log "$name: pid $pid is up but not healthy yet; waiting ..."
    wait_healthy "$name" "$check"
    log "$name: healthy (pid $pid)"
    return 0
  fi
  rm -f -- "$RUN_DIR/$name.pid"
  if port_in_use "$port"; then
    die "$name: port $HOST:$port is in use by a process this script did not start; stop it or set a different port"
  fi
  local t0=$SECONDS
  "$start"
  wait_healthy "$name" "$check"
  log "$name: started (pid $(live_pid "$name")) in $((SECONDS - t0))s; log $LOG_DIR/$name.log"
}

# --- Temporal -----------------------------------------------------------------------------------

start_temporal() {
  local args=(server start-dev
    --ip "$HOST" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --db-filename "$DATA_DIR/temporal/temporal.db"
    --namespace "$TEMPORAL_NAMESPACE"
    --ui-disable-news-fetch
    --log-level warn)
  local sa
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  log "temporal: starting dev server on $TEMPORAL_ADDRESS (UI port $TEMPORAL_UI_PORT) ..."
  spawn temporal -- "$TEMPORAL" "${args[@]}"
}

# The dev server registers them at start; this checks the types and registers any missing one.
ensure_search_attributes() {
  local list sa name type have
  list="$("$TEMPORAL" operator search-attribute list "${TCTL_ISOLATION[@]}" --address "$TEMPORAL_ADDRESS" \
    --namespace "$TEMPORAL_NAMESPACE" --command-timeout 10s -o json)" ||
    die "temporal: could not list search attributes"
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${sa%%=*}" type="${sa#*=}"
    # JSON lines look like:   "SweepName": "INDEXED_VALUE_TYPE_KEYWORD",
    have="$(sed -n "s/^ *\"$name\": *\"INDEXED_VALUE_TYPE_\([A-Z_]*\)\".*/\1/p" <<<"$list" | head -n 1)"
    if [[ -z "$have" ]]; then
      log "temporal: registering search attribute $name ($type)"
      "$TEMPORAL" operator search-attribute create "${TCTL_ISOLATION[@]}" --address "$TEMPORAL_ADDRESS" \
        --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type" --command-timeout 10s >/dev/null
    elif [[ "$have" != "${type^^}" ]]; then
      die "temporal: search attribute $name is $have, expected ${type^^}; recreate with: infra/stack-down.sh temporal --purge && infra/stack-up.sh"
    fi
  done
}

# --- MinIO --------------------------------------------------------------------------------------

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

MINIO_ROOT_USER=""
MINIO_ROOT_PASSWORD=""
load_minio_credentials() {
  if [[ ! -s "$MINIO_CREDS_FILE" ]]; then
    (
      umask 077
      printf 'MINIO_ROOT_USER=sweep-%s\nMINIO_ROOT_PASSWORD=%s\n' "$(random_hex 6)" "$(random_hex 24)" \
        >"$MINIO_CREDS_FILE.tmp"
      mv -f -- "$MINIO_CREDS_FILE.tmp" "$MINIO_CREDS_FILE"
    )
    log "minio: generated root credentials in $MINIO_CREDS_FILE"
  fi
  chmod 600 -- "$MINIO_CREDS_FILE"
  local key value
  while IFS='=' read -r key value; do
    case "$key" in
      MINIO_ROOT_USER) MINIO_ROOT_USER="$value" ;;
      MINIO_ROOT_PASSWORD) MINIO_ROOT_PASSWORD="$value" ;;
    esac
  done <"$MINIO_CREDS_FILE"
  [[ -n "$MINIO_ROOT_USER" && -n "$MINIO_ROOT_PASSWORD" ]] ||
    die "$MINIO_CREDS_FILE lacks MINIO_ROOT_USER/MINIO_ROOT_PASSWORD"
}

start_minio() {
  log "minio: starting on $HOST:$MINIO_PORT (console $HOST:$MINIO_CONSOLE_PORT) ..."
  # Credentials go in through the environment, never on the command line.
  spawn minio \
    "MINIO_ROOT_USER=$MINIO_ROOT_USER" "MINIO_ROOT_PASSWORD=$MINIO_ROOT_PASSWORD" \
    MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    -- "$MINIO" server "$DATA_DIR/minio" \
    --address "$HOST:$MINIO_PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT" \
    --certs-dir "$STACK_DIR/config/minio-certs"
}

# --- client files -------------------------------------------------------------------------------

write_client_files() {
  (
    umask 077
    printf '[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
      "$AWS_PROFILE_NAME" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >"$AWS_CREDS_FILE.tmp"
    mv -f -- "$AWS_CREDS_FILE.tmp" "$AWS_CREDS_FILE"
  )
  chmod 600 -- "$AWS_CREDS_FILE"
  cat >"$ENV_FILE.tmp" <<EOF
TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS
TEMPORAL_NAMESPACE=$TEMPORAL_NAMESPACE
TEMPORAL_UI_URL=http://$HOST:$TEMPORAL_UI_PORT
S3_ENDPOINT=$S3_ENDPOINT
S3_FORCE_PATH_STYLE=true
S3_BUCKET=$S3_BUCKET
AWS_REGION=us-east-1
AWS_SHARED_CREDENTIALS_FILE=$AWS_CREDS_FILE
AWS_PROFILE=$AWS_PROFILE_NAME
MINIO_CONSOLE_URL=http://$HOST:$MINIO_CONSOLE_PORT
EOF
  chmod 644 -- "$ENV_FILE.tmp"
  mv -f -- "$ENV_FILE.tmp" "$ENV_FILE"
}

create_bucket() {
  # Static keys in the caller's environment would win over the profile in the default chain.
  (
    cd -- "$REPO_ROOT"
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
    bash "$SCRIPT_DIR/node.sh" --import tsx infra/create-bucket.ts
  ) || die "could not create bucket $S3_BUCKET; see $LOG_DIR/minio.log"
}

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
  Env file   $ENV_FILE   (bash: set -a; . $ENV_FILE; set +a)
  Logs       $LOG_DIR/{temporal,minio}.log
EOF
