# Sourced by the infra scripts: where the repository and the stack live, and how to recognise the
# servers this stack started.
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[1]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
STACK_DIR="${SWEEP_STACK_DIR:-$REPO_ROOT/.stack}"

# Search attributes the sweep workflows upsert; registered by the dev server at every start and by
# cluster-up.sh once per namespace (PostgreSQL visibility also has 3 custom columns per numeric type).
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

# Prints the pid from $STACK_DIR/run/<name>.pid if that process is alive and is our server binary
# (argv[0] is the full path of the binary, which rules out a recycled pid).
live_pid() {
  local pidfile="$STACK_DIR/run/$1.pid" bin="$STACK_DIR/bin/$1" pid cmd
  [[ -f "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmd" == "$bin "* ]] || return 1
  printf '%s\n' "$pid"
}

# --- Server processes ---------------------------------------------------------------------------
# Shared by stack-up.sh (dev profile) and cluster-up.sh / nodes-up.sh (cluster profile). They use the
# caller's globals: HOST, RUN_DIR, LOG_DIR, START_TIMEOUT, TEMPORAL, TEMPORAL_ADDRESS,
# TEMPORAL_NAMESPACE, TCTL_CONNECTION, S3_ENDPOINT, S3_BUCKET, the *_FILE paths, and log/die.

port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

temporal_healthy() {
  "$TEMPORAL" operator cluster health "${TCTL_CONNECTION[@]}" --address "$TEMPORAL_ADDRESS" --command-timeout 3s >/dev/null 2>&1 &&
    "$TEMPORAL" operator namespace describe "${TCTL_CONNECTION[@]}" --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
      --command-timeout 3s >/dev/null 2>&1
}

minio_healthy() {
  curl -fsS --noproxy "*" --max-time 3 -o /dev/null "$S3_ENDPOINT/minio/health/live" 2>/dev/null
}

# Checks the types of SEARCH_ATTRIBUTES and registers any missing one (the dev server registers them
# at start; a cluster needs them registered once per namespace).
ensure_search_attributes() {
  local list sa name type have
  list="$("$TEMPORAL" operator search-attribute list "${TCTL_CONNECTION[@]}" --address "$TEMPORAL_ADDRESS" \
    --namespace "$TEMPORAL_NAMESPACE" --command-timeout 10s -o json)" ||
    die "temporal: could not list search attributes"
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${sa%%=*}" type="${sa#*=}"
    # JSON lines look like:   "SweepName": "INDEXED_VALUE_TYPE_KEYWORD",
    have="$(sed -n "s/^ *\"$name\": *\"INDEXED_VALUE_TYPE_\([A-Z_]*\)\".*/\1/p" <<<"$list" | head -n 1)"
    if [[ -z "$have" ]]; then
      log "temporal: registering search attribute $name ($type)"
      "$TEMPORAL" operator search-attribute create "${TCTL_CONNECTION[@]}" --address "$TEMPORAL_ADDRESS" \
        --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type" --command-timeout 10s >/dev/null
    elif [[ "$have" != "${type^^}" ]]; then
      die "temporal: search attribute $name is $have, expected ${type^^}; recreate with: ${PURGE_HINT:-infra/stack-down.sh temporal --purge && infra/stack-up.sh}"
    fi
  done
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
  printf '=== %s: starting %s (%s) ===\n' "$(date -u +%FT%TZ)" "$name" "${0##*/}" >>"$logfile"
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
      log "last lines of $logfile:" >&2
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
    die "$name: port $HOST:$port is in use by a process this script did not start; stop it or ${PORT_SETTINGS:-set a different port}"
  fi
  local t0=$SECONDS
  "$start"
  wait_healthy "$name" "$check"
  log "$name: started (pid $(live_pid "$name")) in $((SECONDS - t0))s; log $LOG_DIR/$name.log"
}

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

write_client_files() {
  (
    umask 077
    printf '[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
      "$AWS_PROFILE_NAME" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >"$AWS_CREDS_FILE.tmp"
    mv -f -- "$AWS_CREDS_FILE.tmp" "$AWS_CREDS_FILE"
  )
  chmod 600 -- "$AWS_CREDS_FILE"
  # Values single-quoted, so the file sources in bash (set -a; . file) and parses in Node (dotenv
  # rules) when a path holds a space. (No TEMPORAL_UI_URL line when TEMPORAL_UI_PORT is empty: a
  # cluster without the UI server; TLS lines only where CLUSTER_TLS_CA and CLUSTER_TLS_OPERATOR are set: the cluster.)
  local line
  for line in \
    "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS" \
    "TEMPORAL_NAMESPACE=$TEMPORAL_NAMESPACE" \
    ${TEMPORAL_UI_PORT:+"TEMPORAL_UI_URL=http://${UI_HOST:-$HOST}:$TEMPORAL_UI_PORT"} \
    ${CLUSTER_TLS_CA:+"TEMPORAL_TLS_SERVER_CA_CERT_PATH=$CLUSTER_TLS_CA"} \
    ${CLUSTER_TLS_SERVER_NAME:+"TEMPORAL_TLS_SERVER_NAME=$CLUSTER_TLS_SERVER_NAME"} \
    ${CLUSTER_TLS_OPERATOR:+"TEMPORAL_TLS_CLIENT_CERT_PATH=$CLUSTER_TLS_OPERATOR.pem"} \
    ${CLUSTER_TLS_OPERATOR:+"TEMPORAL_TLS_CLIENT_KEY_PATH=$CLUSTER_TLS_OPERATOR.key"} \
    "S3_ENDPOINT=$S3_ENDPOINT" \
    ${CLUSTER_TLS_CA:+"AWS_CA_BUNDLE=$CLUSTER_TLS_CA"} \
    "S3_FORCE_PATH_STYLE=true" \
    "S3_BUCKET=$S3_BUCKET" \
    "AWS_REGION=us-east-1" \
    "AWS_SHARED_CREDENTIALS_FILE=$AWS_CREDS_FILE" \
    "AWS_PROFILE=$AWS_PROFILE_NAME" \
    "MINIO_CONSOLE_URL=${S3_ENDPOINT%%://*}://${INTERNAL_HOST:-$HOST}:$MINIO_CONSOLE_PORT"; do
    [[ "$line" != *\'* ]] || die "cannot write ${line%%=*} to $ENV_FILE: its value holds a single quote ($line); use a folder without one"
    printf "%s='%s'\n" "${line%%=*}" "${line#*=}"
  done >"$ENV_FILE.tmp"
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
    bash "$REPO_ROOT/infra/node.sh" --import tsx infra/create-bucket.ts
  ) || die "could not create bucket $S3_BUCKET; see $LOG_DIR/minio.log"
}

# --- Stopping (stack-down.sh, cluster-down.sh, nodes-down.sh; globals RUN_DIR, STOP_TIMEOUT, signal) ---

# A killed process stays a zombie until its parent (init) reaps it; count that as stopped.
gone() {
  local state
  kill -0 "$1" 2>/dev/null || return 0
  state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -z "$state" || "$state" == Z ]]
}

# stop <name> [signal]: signal defaults to $signal (TERM, or KILL for --kill).
stop() {
  local name="$1" sig="${2:-$signal}" pid deadline
  if ! pid="$(live_pid "$name")"; then
    if [[ -f "$RUN_DIR/$name.pid" ]]; then
      log "$name: not running (removing stale pid file)"
      rm -f -- "$RUN_DIR/$name.pid"
    else
      log "$name: not running"
    fi
    return 0
  fi
  log "$name: sending $sig to pid $pid ..."
  kill "-$sig" "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while ! gone "$pid"; do
    if (( SECONDS >= deadline )); then
      log "$name: still running after ${STOP_TIMEOUT}s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while ! gone "$pid"; do
        (( SECONDS < deadline )) || die "$name: pid $pid survived KILL"
        sleep 0.2
      done
      break
    fi
    sleep 0.2
  done
  rm -f -- "$RUN_DIR/$name.pid"
  log "$name: stopped"
}
