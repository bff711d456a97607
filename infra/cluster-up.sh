#!/usr/bin/env bash
# Starts the CLUSTER PROFILE: the stack as it runs in production, on one machine, detached, with
# state under $SWEEP_CLUSTER_DIR (default <repo>/.stack/cluster). Starts only what is not already
# running and healthy.
#   network    bridge $CLUSTER_BRIDGE with $CLUSTER_SUBNET.1/24: worker nodes in network namespaces
#              (infra/nodes-up.sh) reach the servers at that address as remote hosts, and there only
#              Temporal's frontend and MinIO's S3 API listen; every other port of the servers is on the
#              host's loopback (cluster-common.sh says why)
#   postgres   PostgreSQL (own data dir and port, TLS only); databases temporal + temporal_visibility
#              with the schemas applied by temporal-sql-tool (setup-schema, then update-schema)
#   temporal   the Temporal server's four services, each a process of its own, history, matching
#              and the frontend two (temporal-history, -history-b, -matching, -matching-b, -frontend,
#              -frontend-b, -worker: one restarts while the others serve, as in a rolling upgrade; a
#              lost host's shards or task queues move to the other; clients reach either frontend at
#              one address), on
#              postgres12 persistence and visibility; namespace default and the sweep search attributes
#   minio      MinIO in erasure-coded mode over 4 drive directories (survives losing one), HTTPS
#   tls        (always) a private CA and certificates in <cluster dir>/tls: Temporal requires a client
#              certificate of that CA (mutual TLS, nodes and services alike); MinIO serves HTTPS
#
# Usage: infra/cluster-up.sh [network|postgres|temporal|minio ...] [--no-setup]
#   no component   start all (and create the bucket)
#   --no-setup     skip infra/setup-cluster.sh (tools must already be installed)
#
# Environment: CLUSTER_SUBNET (10.203.0: host address .1), CLUSTER_BRIDGE (swc0),
#   CLUSTER_PG_PORT (5433), CLUSTER_TEMPORAL_PORT (7333 at the bridge address and the loopback; the
#   loopback's other ports are +1, +2, +6, +10, +20..+22, +30, +100..+106, +120..+122), CLUSTER_MINIO_PORT (9100), CLUSTER_MINIO_CONSOLE_PORT (9101),
#   CLUSTER_UI_PORT (8333, used only if temporal-ui-server is installed), S3_BUCKET
#   (sweep-artifacts), STACK_START_TIMEOUT (seconds, 180).
#
# Writes <cluster dir>/stack.env (the dev profile's variables, plus the CA and the operator's client
# certificate for Temporal, and the CA as AWS_CA_BUNDLE for S3): point workers and the CLI at it with
# SWEEP_STACK_ENV=<cluster dir>/stack.env. Secrets (PostgreSQL and MinIO passwords, private keys)
# stay in mode-600 files of the cluster dir.
set -euo pipefail

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=infra/cluster-common.sh
source "$SCRIPT_DIR/cluster-common.sh"

log() { printf '[cluster-up] %s\n' "$*"; }
die() { printf '[cluster-up] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

START_TIMEOUT="${STACK_START_TIMEOUT:-180}"
PURGE_HINT="infra/cluster-down.sh --purge && infra/cluster-up.sh"
# The schema files of the pinned server, copied from its Go module by setup-cluster.sh (no go needed here).
SCHEMA_DIR="${TEMPORAL_SCHEMA_DIR:-$SCHEMA_COPY_DIR/postgresql/v12}"
TEMPORAL_UI_PORT=""   # set below when the UI server is installed

want=()
run_setup=1
for arg in "$@"; do
  case "$arg" in
    network|postgres|temporal|minio) want+=("$arg") ;;
    --no-setup) run_setup=0 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done
(( ${#want[@]} )) || want=(network postgres temporal minio)
wants() { [[ " ${want[*]} " == *" $1 "* ]]; }

(( EUID == 0 )) || die "must run as root (it creates a bridge and runs PostgreSQL as the postgres user); use sudo"
if (( run_setup )); then
  bash "$SCRIPT_DIR/setup-cluster.sh"
fi
! wants postgres || [[ -d "$SCHEMA_DIR/temporal/versioned" ]] || die "Temporal schema files not found in $SCHEMA_DIR; run infra/setup-cluster.sh (or set TEMPORAL_SCHEMA_DIR)"
need=()
wants postgres && need+=(postgres initdb temporal-sql-tool)
wants temporal && need+=(temporal-server temporal)
wants minio && need+=(minio)
for b in "${need[@]}"; do
  [[ -x "$BIN_DIR/$b" ]] || die "$BIN_DIR/$b missing; run infra/setup-cluster.sh"
done
# The server of before 2026-12-05 21:30 UTC was Temporal's own cmd/server, without the cluster's
# authorization and with other flags.
! wants temporal || [[ -f "$BIN_DIR/temporal-server.source" ]] ||
  die "$BIN_DIR/temporal-server was not built from infra/temporal-server (the server with the cluster's authorization); run infra/setup-cluster.sh"

mkdir -p -- "$RUN_DIR" "$LOG_DIR" "$CONFIG_DIR" "$DATA_DIR"
exec 9>"$RUN_DIR/cluster.lock"
flock -w 300 9 || die "timed out waiting for another cluster-up/cluster-down (lock $RUN_DIR/cluster.lock)"

# --- network --------------------------------------------------------------------------------------

ensure_network() {
  if ! ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1; then
    ip link add "$CLUSTER_BRIDGE" type bridge || die "could not create bridge $CLUSTER_BRIDGE (needs root and the bridge module)"
    log "network: created bridge $CLUSTER_BRIDGE"
  fi
  if ! ip -4 addr show dev "$CLUSTER_BRIDGE" | grep -q "inet $HOST/24"; then
    ip addr add "$HOST/24" dev "$CLUSTER_BRIDGE" || die "could not add $HOST/24 to $CLUSTER_BRIDGE; is $CLUSTER_SUBNET.0/24 used elsewhere? set CLUSTER_SUBNET"
  fi
  # The bridge keeps one hardware address. One it chose itself follows the lowest of its ports' (the
  # nodes' veths): a node started or removed changed the host's address under every other node, whose
  # frames to the old one the bridge then flooded instead of taking, so their connections to the
  # frontends and MinIO went silent until they asked ARP again (15-45 s: the nodes' unanswered calls,
  # http2 KeepAliveTimedOut, of docs/deploy.md). An address set by hand stays (addr_assign_type 3).
  if [[ "$(cat "/sys/class/net/$CLUSTER_BRIDGE/addr_assign_type")" != 3 ]]; then
    ip link set "$CLUSTER_BRIDGE" address "$(cat "/sys/class/net/$CLUSTER_BRIDGE/address")"
  fi
  ip link set "$CLUSTER_BRIDGE" up
  log "network: $CLUSTER_BRIDGE up with $HOST/24 at $(cat "/sys/class/net/$CLUSTER_BRIDGE/address") (nodes get .11-.99 gpu, .101-.199 cpu)"
}

# --- PostgreSQL -----------------------------------------------------------------------------------

PG_DATA="$DATA_DIR/postgres"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

load_pg_password() {
  if [[ ! -s "$PG_CREDS_FILE" ]]; then
    (umask 077; random_hex 24 >"$PG_CREDS_FILE.tmp" && mv -f -- "$PG_CREDS_FILE.tmp" "$PG_CREDS_FILE")
  fi
  PG_PASSWORD="$(<"$PG_CREDS_FILE")"
}

init_postgres() {
  [[ -s "$PG_DATA/PG_VERSION" ]] && return 0
  log "postgres: initdb into $PG_DATA (superuser $PG_USER) ..."
  rm -rf -- "$PG_DATA"
  install -d -o postgres -g postgres -m 700 -- "$PG_DATA"
  local pwfile="$RUN_DIR/postgres-pwfile"
  (umask 077; printf '%s\n' "$PG_PASSWORD" >"$pwfile")
  chown postgres: -- "$pwfile"
  if ! as_postgres "$BIN_DIR/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile="$pwfile" --auth=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >>"$LOG_DIR/postgres.log" 2>&1; then
    rm -rf -- "$PG_DATA" "$pwfile"
    die "initdb failed; see $LOG_DIR/postgres.log"
  fi
  rm -f -- "$pwfile"
}

# Only the Temporal server (and the tools here) connect, on the host's loopback, over TLS (hostssl).
# The file is written whole: initdb's own lines let anyone on the loopback in without TLS (moot while
# PostgreSQL listened on the bridge alone, until 2026-12-06 03:50 UTC). A running server reloads it.
ensure_pg_hba() {
  local pid
  printf '# Written by infra/cluster-up.sh at every start.\nhostssl all %s %s/32 scram-sha-256\n' "$PG_USER" "$INTERNAL_HOST" >"$PG_DATA/pg_hba.conf"
  if pid="$(live_pid postgres)"; then kill -HUP "$pid"; fi
}

# The server certificate, as PostgreSQL wants its key: owned by its user, mode 600.
install_pg_certs() {
  local dir="$CONFIG_DIR/postgres-tls"
  install -d -o postgres -g postgres -m 700 -- "$dir"
  install -o postgres -g postgres -m 600 -- "$CLUSTER_TLS_SERVER.key" "$dir/server.key"
  install -o postgres -g postgres -m 644 -- "$CLUSTER_TLS_SERVER.pem" "$dir/server.pem"
}

postgres_healthy() {
  "$PG_BIN/pg_isready" -q -h "$INTERNAL_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -t 3
}

# Processes of a killed server still running in the data dir (backends exit once they notice the
# postmaster is gone); a new postmaster refuses to start while they hold the shared memory.
pg_leftovers() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(readlink -- "$p/cwd" 2>/dev/null)" == "$PG_DATA" ]] && return 0
  done
  return 1
}

start_postgres() {
  local deadline=$((SECONDS + 30))
  while pg_leftovers; do
    (( SECONDS < deadline )) || die "postgres: processes of a previous server still run in $PG_DATA; stop them (infra/cluster-down.sh postgres --kill)"
    sleep 0.2
  done
  log "postgres: starting on $INTERNAL_HOST:$PG_PORT ..."
  # No unix socket (the system cluster owns /var/run/postgresql); TCP on the host's loopback only.
  spawn postgres -- setpriv --reuid=postgres --regid=postgres --init-groups -- \
    "$BIN_DIR/postgres" -D "$PG_DATA" -p "$PG_PORT" -c listen_addresses="$INTERNAL_HOST" -c unix_socket_directories= \
    -c max_connections=200 -c logging_collector=off \
    -c ssl=on -c ssl_cert_file="$CONFIG_DIR/postgres-tls/server.pem" -c ssl_key_file="$CONFIG_DIR/postgres-tls/server.key"
}

psql_q() {
  PGPASSWORD="$PG_PASSWORD" PGSSLMODE=verify-full PGSSLROOTCERT="$CLUSTER_TLS_CA" "$PG_BIN/psql" -h "$INTERNAL_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$1" -tAq -c "$2"
}

sql_tool() {
  SQL_PASSWORD="$PG_PASSWORD" "$BIN_DIR/temporal-sql-tool" --plugin postgres12 --endpoint "$INTERNAL_HOST" --port "$PG_PORT" \
    --tls --tls-ca-file "$CLUSTER_TLS_CA" \
    --user "$PG_USER" --database "$1" "${@:2}" >>"$LOG_DIR/schema.log" 2>&1 ||
    die "temporal-sql-tool ${*:2} on database $1 failed; see $LOG_DIR/schema.log"
}

# Creates the database and applies setup-schema (once) and update-schema (every time: it applies
# only versions newer than the recorded one, so a newer server binary upgrades the schema here).
ensure_schema() {
  local db="$1" dir="$2"
  if [[ "$(psql_q postgres "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
    sql_tool "$db" create-database
    log "postgres: created database $db"
  fi
  if [[ "$(psql_q "$db" "SELECT to_regclass('schema_version') IS NOT NULL")" != t ]]; then
    sql_tool "$db" setup-schema -v 0.0
  fi
  sql_tool "$db" update-schema -d "$SCHEMA_DIR/$dir/versioned"
  log "postgres: $db schema at version $(psql_q "$db" "SELECT curr_version FROM schema_version LIMIT 1")"
}

# --- Temporal -------------------------------------------------------------------------------------

# temporal_yaml [<service>]: the server's config; with a service, the config of its second host
# (<service>-b), whose ports are the first's + 20.
temporal_yaml() {
  local p=$TEMPORAL_PORT h=0 m=0 f=0
  case "${1:-}" in history) h=20 ;; matching) m=20 ;; frontend) f=20 ;; esac
  cat <<EOF
# Written by infra/cluster-up.sh; regenerated at every start.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
      sql: &pg
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "$INTERNAL_HOST:$PG_PORT"
        connectProtocol: tcp
        user: "$PG_USER"
        password: "$PG_PASSWORD"
        tls: { enabled: true, caFile: "$CLUSTER_TLS_CA", enableHostVerification: true }
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        <<: *pg
        databaseName: temporal_visibility
        maxConns: 4
        maxIdleConns: 4
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "$INTERNAL_HOST"
  # Mutual TLS: clients (nodes, the operator, the UI server) present certificates of the cluster's CA
  # to the frontend; the services among themselves (internode) present and trust only the internode
  # CA's (cluster-common.sh says why). Files reread every 10 min (a reissued certificate).
  tls:
    refreshInterval: 10m
    # The server logs a warning 30 days, an error 7 days, before one of its certificates expires.
    expirationChecks: { warningWindow: 720h, errorWindow: 168h, checkInterval: 24h }
    internode:
      server:
        certFile: "$CLUSTER_TLS_INTERNODE.pem"
        keyFile: "$CLUSTER_TLS_INTERNODE.key"
        requireClientAuth: true
        clientCaFiles: ["$CLUSTER_TLS_INTERNODE_CA_BASE.pem"]
      client:
        serverName: "$CLUSTER_TLS_SERVER_NAME"
        rootCaFiles: ["$CLUSTER_TLS_INTERNODE_CA_BASE.pem"]
    frontend:
      server:
        certFile: "$CLUSTER_TLS_SERVER.pem"
        keyFile: "$CLUSTER_TLS_SERVER.key"
        requireClientAuth: true
        clientCaFiles: ["$CLUSTER_TLS_CA"]
      client: &frontend_client
        serverName: "$CLUSTER_TLS_SERVER_NAME"
        rootCaFiles: ["$CLUSTER_TLS_CA"]
    systemWorker:
      certFile: "$CLUSTER_TLS_SERVER.pem"
      keyFile: "$CLUSTER_TLS_SERVER.key"
      client: *frontend_client
services:
  frontend:
    rpc: { grpcPort: $((p + f)), membershipPort: $((p + 100 + f)), bindOnIP: "$INTERNAL_HOST", httpPort: $((p + 10 + f)) }
  history:
    rpc: { grpcPort: $((p + 1 + h)), membershipPort: $((p + 101 + h)), bindOnIP: "$INTERNAL_HOST" }
  matching:
    rpc: { grpcPort: $((p + 2 + m)), membershipPort: $((p + 102 + m)), bindOnIP: "$INTERNAL_HOST" }
  worker:
    rpc: { grpcPort: $((p + 6)), membershipPort: $((p + 106)), bindOnIP: "$INTERNAL_HOST" }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "$TEMPORAL_ADDRESS"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "$CONFIG_DIR/dynamicconfig.yaml"
  pollInterval: 10s
EOF
}

# The config of each process: temporal-<process>.yaml for the second hosts, temporal.yaml for the others.
temporal_config_file() { if [[ "$1" == *-b ]]; then echo "$CONFIG_DIR/temporal-$1.yaml"; else echo "$CONFIG_DIR/temporal.yaml"; fi; }

write_temporal_config() {
  (
    umask 077
    local instance file
    for instance in "" "${TEMPORAL_PROCESSES[@]}"; do
      [[ -z "$instance" || "$instance" == *-b ]] || continue
      file="$(temporal_config_file "$instance")"
      temporal_yaml "${instance%-b}" >"$file.tmp"
      mv -f -- "$file.tmp" "$file"
    done
  )
  cat >"$CONFIG_DIR/dynamicconfig.yaml" <<EOF
# Written by infra/cluster-up.sh. No calls home: this machine must only talk to itself.
frontend.enableServerVersionCheck:
  - value: false
limit.maxIDLength:
  - value: 255
EOF
}

# ensure_running's check and start for the server process in $instance: a frontend is up when it
# answers a health check at its own port (it needs history and matching, started before it) and its
# relay listens at the nodes' address (opened once the frontend serves: relay.go), the others when
# they listen (ensure_running runs with HOST set to INTERNAL_HOST).
instance_up() {
  if [[ "$instance" == frontend* ]]; then
    "$TEMPORAL" operator cluster health "${TCTL_CONNECTION[@]}" --address "$INTERNAL_HOST:$(temporal_process_port "$instance")" --command-timeout 3s >/dev/null 2>&1 &&
      relay_listens "$(live_pid "temporal-$instance")"
  else
    port_in_use "$(temporal_process_port "$instance")"
  fi
}

# relay_listens <pid>: the process listens at the frontends' shared address (others may too: SO_REUSEPORT).
relay_listens() {
  ss -Hltnp "src $TEMPORAL_ADDRESS" | grep -q "pid=$1,"
}

start_instance() {
  local service="${instance%-b}" config public=()
  config="$(temporal_config_file "$instance")"
  [[ "$service" == frontend ]] && public=(--public-address "$TEMPORAL_ADDRESS")
  log "temporal: starting $instance ($service service) on $INTERNAL_HOST:$(temporal_process_port "$instance")${public:+, relayed from $TEMPORAL_ADDRESS} ..."
  # argv[0] is bin/temporal-<name> (a link to the server), so live_pid and ps tell the processes apart.
  ln -sfn -- temporal-server "$BIN_DIR/temporal-$instance"
  spawn "temporal-$instance" TEMPORAL_VERSION_CHECK_DISABLED=1 -- \
    "$BIN_DIR/temporal-$instance" --config-file "$config" --service "$service" --namespace "$TEMPORAL_NAMESPACE" \
    --revoked-certificates "$CLUSTER_TLS_REVOKED" "${public[@]}"
  temporal_layout >"$RUN_DIR/temporal-$instance.layout"
}

# What a process started now cannot mix with in processes started before: the internode CA it trusts,
# the address its ports (gRPC and membership) listen on, and the frontends' public address shared
# (SO_REUSEPORT: a frontend whose relay did not share it keeps the other out).
temporal_layout() { printf 'internode-ca %s listen %s public-address shared\n' "$(sha256sum <"$CLUSTER_TLS_INTERNODE_CA_BASE.pem" | cut -d' ' -f1)" "$INTERNAL_HOST"; }

# The processes must trust one internode CA (before 2026-12-05 23:40 UTC, the cluster's own CA: a
# node's certificate passed the internode ports) and listen where the others look for them (before
# 2026-12-06 03:50 UTC, on the bridge, none recorded; they also reach PostgreSQL there, so this is
# checked before PostgreSQL moves); until 04:05 UTC, one frontend held the public address alone.
require_one_temporal_layout() {
  local instance layout others=()
  layout="$(temporal_layout)"
  for instance in "${TEMPORAL_PROCESSES[@]}"; do
    live_pid "temporal-$instance" >/dev/null || continue
    [[ "$(cat -- "$RUN_DIR/temporal-$instance.layout" 2>/dev/null)" == "$layout" ]] || others+=("temporal-$instance")
  done
  (( ${#others[@]} == 0 )) ||
    die "${others[*]} run(s) as started before (the services now trust only $CLUSTER_TLS_INTERNODE_CA_BASE.pem among themselves, and listen on $INTERNAL_HOST, the frontends sharing $TEMPORAL_ADDRESS through their relays); restart the whole server at once: infra/cluster-down.sh temporal && infra/cluster-up.sh"
}

start_temporal_processes() {
  if live_pid temporal-server >/dev/null; then
    die "temporal-server runs all four services in one process, as cluster-up.sh started it before 2026-12-05; restart it as processes of their own: infra/cluster-down.sh temporal && infra/cluster-up.sh"
  fi
  require_one_temporal_layout
  write_temporal_config
  local instance pid stale=()
  for instance in "${TEMPORAL_PROCESSES[@]}"; do
    HOST="$INTERNAL_HOST" ensure_running "temporal-$instance" "$(temporal_process_port "$instance")" instance_up start_instance
    # A process left running across a rebuild of the server (setup-cluster.sh replaced the file) runs the old build.
    pid="$(live_pid "temporal-$instance" || true)"
    [[ -n "$pid" && "$(readlink -- "/proc/$pid/exe" 2>/dev/null)" == *" (deleted)" ]] && stale+=("temporal-$instance")
  done
  if (( ${#stale[@]} )); then
    log "warning: ${stale[*]} still run(s) the server binary of before the last infra/setup-cluster.sh build; restart each to run the new one, one at a time while the others serve: infra/cluster-down.sh <process> && infra/cluster-up.sh temporal"
  fi
}

ensure_namespace() {
  if ! "$TEMPORAL" operator namespace describe "${TCTL_CONNECTION[@]}" --address "$TEMPORAL_ADDRESS" \
      --namespace "$TEMPORAL_NAMESPACE" --command-timeout 5s >/dev/null 2>&1; then
    "$TEMPORAL" operator namespace create "${TCTL_CONNECTION[@]}" --address "$TEMPORAL_ADDRESS" \
      --namespace "$TEMPORAL_NAMESPACE" --retention 72h --command-timeout 10s >/dev/null ||
      die "temporal: could not create namespace $TEMPORAL_NAMESPACE; see $LOG_DIR/temporal-frontend.log"
    log "temporal: registered namespace $TEMPORAL_NAMESPACE"
  fi
  wait_healthy temporal-frontend namespace_served
}

# Each frontend has a namespace cache of its own, refreshed every 2 s, and the kernel hands a client's
# connection to either: a namespace, or a search attribute, just made through one is there when every
# frontend serves it. (Seen on a new cluster: the namespace served through one frontend, the next call
# reached the other and was told "Namespace default is not found".)
frontend_search_attributes() {
  "$TEMPORAL" operator search-attribute list "${TCTL_CONNECTION[@]}" --address "$INTERNAL_HOST:$(temporal_process_port "$1")" \
    --namespace "$TEMPORAL_NAMESPACE" --command-timeout 3s -o json 2>/dev/null
}

# every_frontend_lists [<search attribute name>...]: each frontend lists the namespace's search
# attributes, with these among them.
every_frontend_lists() {
  local process list name
  for process in "${TEMPORAL_PROCESSES[@]}"; do
    [[ "$process" == frontend* ]] || continue
    list="$(frontend_search_attributes "$process")" || return 1
    for name in "$@"; do grep -q "\"$name\":" <<<"$list" || return 1; done
  done
}
namespace_served() { temporal_healthy && every_frontend_lists; }
search_attributes_served() { every_frontend_lists "${SEARCH_ATTRIBUTES[@]%%=*}"; }

# --- MinIO ----------------------------------------------------------------------------------------

minio_cluster_healthy() {
  # /minio/health/cluster answers 200 only when the erasure set has write quorum.
  curl -fsS --noproxy "*" --max-time 3 --cacert "$CLUSTER_TLS_CA" -o /dev/null "$S3_ENDPOINT/minio/health/cluster" 2>/dev/null
}

# MinIO serves HTTPS with the server certificate found in its certs dir (and reloads it when it
# changes); CAs/ holds the CA its console trusts when it calls MinIO's API.
install_minio_certs() {
  local dir="$CONFIG_DIR/minio-certs"
  mkdir -p -- "$dir/CAs"
  chmod 700 -- "$dir"
  cmp -s -- "$CLUSTER_TLS_SERVER.pem" "$dir/public.crt" || { install -m 600 -- "$CLUSTER_TLS_SERVER.key" "$dir/private.key"; install -m 644 -- "$CLUSTER_TLS_SERVER.pem" "$dir/public.crt"; }
  cmp -s -- "$CLUSTER_TLS_CA" "$dir/CAs/ca.pem" || install -m 644 -- "$CLUSTER_TLS_CA" "$dir/CAs/ca.pem"
}

start_minio() {
  mkdir -p -- "${MINIO_DRIVES[@]}"
  log "minio: starting erasure-coded over ${#MINIO_DRIVES[@]} drives on $HOST:$MINIO_PORT (console $INTERNAL_HOST:$MINIO_CONSOLE_PORT) ..."
  # The drives share the root file system here; MinIO refuses that for erasure sets unless told that
  # only drives of <= 1 byte count as root drives. In production each drive is its own mount.
  spawn minio \
    "MINIO_ROOT_USER=$MINIO_ROOT_USER" "MINIO_ROOT_PASSWORD=$MINIO_ROOT_PASSWORD" \
    MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off MINIO_ROOTDISK_THRESHOLD_SIZE=1B \
    -- "$BIN_DIR/minio" server "$DATA_DIR/minio/drive{1...4}" \
    --address "$HOST:$MINIO_PORT" --console-address "$INTERNAL_HOST:$MINIO_CONSOLE_PORT" \
    --certs-dir "$CONFIG_DIR/minio-certs"
}

# The policy of the nodes' own MinIO users (nodes-up.sh makes one per node), written at every start so
# that it follows the bucket's name.
ensure_node_s3_policy() {
  local file="$CONFIG_DIR/$NODE_S3_POLICY-policy.json"
  cat >"$file" <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    { "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": ["arn:aws:s3:::$S3_BUCKET"] },
    { "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "Resource": ["arn:aws:s3:::$S3_BUCKET/*"] }
  ]
}
EOF
  mc_admin admin policy create cluster "$NODE_S3_POLICY" "$file" >/dev/null ||
    die "could not write MinIO's policy $NODE_S3_POLICY ($file); see $LOG_DIR/minio.log"
}

# --- Web UI (optional) ----------------------------------------------------------------------------

start_ui() {
  log "ui: starting temporal-ui-server on $UI_HOST:$UI_PORT ..."
  cat >"$CONFIG_DIR/ui.yaml" <<EOF
temporalGrpcAddress: "$TEMPORAL_ADDRESS"
host: "$UI_HOST"
port: $UI_PORT
enableUi: true
hideLogs: true
tls:
  caFile: "$CLUSTER_TLS_CA"
  certFile: "$CLUSTER_TLS_OPERATOR.pem"
  keyFile: "$CLUSTER_TLS_OPERATOR.key"
  serverName: "$CLUSTER_TLS_SERVER_NAME"
  enableHostVerification: true
EOF
  spawn temporal-ui-server -- "$BIN_DIR/temporal-ui-server" --root "$CONFIG_DIR" --config . --env ui start
}
ui_healthy() { curl -fsS --noproxy "*" --max-time 3 -o /dev/null "http://$UI_HOST:$UI_PORT/" 2>/dev/null; }

# --- Moving off the bridge ------------------------------------------------------------------------

# restart_off_the_bridge <name> <signal> <check ...>: a process started when it listened on the bridge
# (the Web UI until 2026-12-06 00:05 UTC; PostgreSQL and MinIO's console until 03:50 UTC), where the
# nodes reach it, is stopped, to be started again on the loopback. <check ...> succeeds for one that
# listens there already. Clients retry through the restart (the soak kills each of them at random).
restart_off_the_bridge() {
  local name="$1" sig="$2"
  live_pid "$name" >/dev/null && ! "${@:3}" || return 0
  log "$name: listens where the nodes reach it; restarting it on $INTERNAL_HOST"
  STOP_TIMEOUT=20 stop "$name" "$sig"
}


# --- main -----------------------------------------------------------------------------------------

load_pg_password
load_minio_credentials
ensure_tls_ca "$CLUSTER_TLS_CA_BASE" "sweep cluster CA"
ensure_tls_ca "$CLUSTER_TLS_INTERNODE_CA_BASE" "sweep cluster internode CA"
tls_issue "$CLUSTER_TLS_CA_BASE" "$CLUSTER_TLS_SERVER" "sweep cluster servers" server "$HOST" "$INTERNAL_HOST"
tls_issue "$CLUSTER_TLS_CA_BASE" "$CLUSTER_TLS_OPERATOR" operator client
tls_issue "$CLUSTER_TLS_INTERNODE_CA_BASE" "$CLUSTER_TLS_INTERNODE" "sweep cluster servers" server "$INTERNAL_HOST"
[[ -x "$BIN_DIR/temporal-ui-server" ]] && TEMPORAL_UI_PORT="$UI_PORT"
write_client_files

if wants network || ! ip -4 addr show dev "$CLUSTER_BRIDGE" 2>/dev/null | grep -q "inet $HOST/24"; then
  ensure_network
fi
if wants postgres || wants temporal; then
  require_one_temporal_layout
fi
if wants postgres; then
  init_postgres
  install_pg_certs
  ensure_pg_hba
  restart_off_the_bridge postgres INT started_with postgres "listen_addresses=$INTERNAL_HOST "
  HOST="$INTERNAL_HOST" ensure_running postgres "$PG_PORT" postgres_healthy start_postgres
  ensure_schema temporal temporal
  ensure_schema temporal_visibility visibility
fi
if wants temporal; then
  postgres_healthy || die "postgres is not running on $INTERNAL_HOST:$PG_PORT; run infra/cluster-up.sh postgres first"
  start_temporal_processes
  ensure_namespace
  ensure_search_attributes
  wait_healthy temporal-frontend search_attributes_served
  if [[ -n "$TEMPORAL_UI_PORT" ]]; then
    restart_off_the_bridge temporal-ui-server TERM grep -qx "host: \"$UI_HOST\"" "$CONFIG_DIR/ui.yaml"
    # Its port checked where it listens.
    HOST="$UI_HOST" ensure_running temporal-ui-server "$UI_PORT" ui_healthy start_ui
  fi
fi
if wants minio; then
  install_minio_certs
  restart_off_the_bridge minio TERM started_with minio "--console-address $INTERNAL_HOST:"
  ensure_running minio "$MINIO_PORT" minio_cluster_healthy start_minio
  create_bucket
  ensure_node_s3_policy
fi

cat <<EOF
[cluster-up] ready:
  Temporal   $TEMPORAL_ADDRESS (namespace $TEMPORAL_NAMESPACE; processes ${TEMPORAL_PROCESSES[*]} on $INTERNAL_HOST, PostgreSQL $INTERNAL_HOST:$PG_PORT)
  Web UI     $([[ -n "$TEMPORAL_UI_PORT" ]] && echo "http://$UI_HOST:$TEMPORAL_UI_PORT (this host only; from elsewhere: ssh -L $TEMPORAL_UI_PORT:$UI_HOST:$TEMPORAL_UI_PORT <this host>)" || echo "none (temporal-ui-server not installed; see docs/deploy.md)")
  MinIO      $S3_ENDPOINT (bucket $S3_BUCKET; erasure set of ${#MINIO_DRIVES[@]} drives in $DATA_DIR/minio)
  Env file   $ENV_FILE   (SWEEP_STACK_ENV=$(printf %q "$ENV_FILE"))
  Nodes      infra/nodes-up.sh --gpu N --cpu M
  Logs       $LOG_DIR
EOF
