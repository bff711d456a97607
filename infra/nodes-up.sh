#!/usr/bin/env bash
# Starts worker NODES of the cluster profile on this machine: each node is a worker process
# (workers/run-workers.ts gpu, or cpu,suggest: a cpu node also runs the Python suggest worker of
# bayesian sweeps where the search venv is set up) in a network namespace of its own (swc-<node>), joined to the
# cluster bridge by a veth pair, with an address of its own (the first free one of
# $CLUSTER_SUBNET.11-.99 for gpu nodes, .101-.199 for cpu nodes) and no route anywhere else, and a
# local cache dir of its own (<cluster dir>/nodes/<node>/cache as SWEEP_CACHE_DIR), and a client
# certificate of its own for Temporal's mutual TLS (<cluster dir>/nodes/<node>/tls). Each gets
# SWEEP_NODE_NAME=<node>, and serves its metrics for Prometheus at http://<its address>:$CLUSTER_METRICS_PORT/metrics
# (default 9464; SWEEP_METRICS_ADDRESS; a CPU node's Python suggest worker at the port after it). Nodes are named <prefix>gpu1.., <prefix>cpu1..; running ones are kept.
#
# Usage: infra/nodes-up.sh [--gpu N] [--cpu M] [--prefix P] [--build-id B]
#   (default: --gpu 1 --cpu 1, no prefix, unversioned)
#   --build-id B   the nodes' workers join worker deployment version $SWEEP_DEPLOYMENT_NAME:B
#                  (SWEEP_BUILD_ID=B; docs/deploy.md, "Redeploying"); default $SWEEP_BUILD_ID, else
#                  unversioned. A running node of another build is an error: give each build's nodes
#                  their own --prefix.
#
# Environment passed to the workers as given: SWEEP_CPU_QUEUE, SWEEP_GPU_QUEUE,
#   SWEEP_CPU_CONCURRENCY, SWEEP_GPU_CONCURRENCY, SWEEP_DEPLOYMENT_NAME; SWEEP_NODE_BIN (node binary,
#   default the project's Node from `infra/node.sh --which`); STACK_START_TIMEOUT (seconds until a
#   worker polls, default 180); CLUSTER_METRICS_PORT (each node's metrics port, default 9464). Everything else about Temporal and S3 comes from the cluster's
#   stack.env only (but the node's own client certificate).
set -euo pipefail

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=infra/cluster-common.sh
source "$SCRIPT_DIR/cluster-common.sh"
START_TIMEOUT="${STACK_START_TIMEOUT:-180}"
METRICS_PORT="${CLUSTER_METRICS_PORT:-9464}"

log() { printf '[nodes-up] %s\n' "$*"; }
die() { printf '[nodes-up] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

gpu=1 cpu=1 prefix="" build="${SWEEP_BUILD_ID:-}"
while (( $# )); do
  case "$1" in
    --prefix)
      [[ "${2:-}" =~ ^[a-z][a-z0-9]{0,3}$ ]] || die "--prefix needs 1-4 lower-case letters/digits (namespace names are short), e.g. --prefix t"
      prefix=$2
      shift 2 ;;
    --build-id)
      [[ "${2:-}" =~ ^[^[:space:]]+$ ]] || die "--build-id needs this build's id, without spaces (e.g. the git commit: --build-id \$(git rev-parse --short HEAD))"
      build=$2
      shift 2 ;;
    --gpu|--cpu)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || die "$1 needs a number of nodes, e.g. $1 2"
      if [[ $1 == --gpu ]]; then gpu=$2; else cpu=$2; fi
      shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
(( gpu <= 89 && cpu <= 99 )) || die "at most 89 gpu and 99 cpu nodes (addresses .11-.99 and .101-.199)"
(( EUID == 0 )) || die "must run as root (ip netns); use sudo"
[[ -s "$ENV_FILE" && -s "$CLUSTER_TLS_CA_KEY" ]] || die "$ENV_FILE or the cluster's CA ($CLUSTER_TLS_CA_KEY) missing; start the cluster first: infra/cluster-up.sh"
ip -4 addr show dev "$CLUSTER_BRIDGE" 2>/dev/null | grep -q "inet $HOST/24" ||
  die "bridge $CLUSTER_BRIDGE with $HOST/24 is not up; start the cluster first: infra/cluster-up.sh"
NODE_BIN="${SWEEP_NODE_BIN:-$(bash "$SCRIPT_DIR/node.sh" --which)}" || die "no Node for the workers (infra/node.sh --which failed; set SWEEP_NODE_BIN)"
[[ -x "$NODE_BIN" ]] || die "$NODE_BIN is not an executable node (SWEEP_NODE_BIN)"

mkdir -p -- "$RUN_DIR" "$LOG_DIR" "$NODES_DIR"
exec 9>"$RUN_DIR/nodes.lock"
flock -w 300 9 || die "timed out waiting for another nodes-up/nodes-down (lock $RUN_DIR/nodes.lock)"

# The workers' Temporal and S3 settings: the cluster's stack.env, overriding the caller's own.
stack_env=(SWEEP_STACK_ENV="$ENV_FILE")
while IFS= read -r line; do
  # KEY='value' as common.sh writes it (an older file: KEY=value).
  if [[ "$line" =~ ^([A-Z0-9_]+)=\'(.*)\'$ ]]; then
    stack_env+=("${BASH_REMATCH[1]}=${BASH_REMATCH[2]}")
  elif [[ "$line" =~ ^[A-Z0-9_]+= ]]; then
    stack_env+=("$line")
  fi
done <"$ENV_FILE"
# Static keys in the caller's environment would win over the profile in the AWS credential chain.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
# The root user's, for mc_admin (making each node's own).
load_minio_credentials

# ensure_netns <node> <address>
ensure_netns() {
  local node="$1" addr="$2" ns="$NODE_PREFIX$1" veth="$NODE_PREFIX$1-h"
  ip netns list | grep -qx "$ns\( (id: [0-9]*)\)\?" || ip netns add "$ns"
  if ! ip link show "$veth" >/dev/null 2>&1; then
    ip -n "$ns" link del eth0 2>/dev/null || true
    ip link add "$veth" type veth peer name eth0 netns "$ns"
  fi
  ip link set "$veth" master "$CLUSTER_BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr replace "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
}

# node_address <node> <first> <last>: the node's address (kept in nodes/<node>/address), else the
# first one in .first-.last that no other node has.
node_address() {
  local node="$1" i used
  if [[ -s "$NODES_DIR/$node/address" ]]; then cat -- "$NODES_DIR/$node/address"; return; fi
  used=" $(cat "$NODES_DIR"/*/address 2>/dev/null | tr '\n' ' ') "
  for ((i = $2; i <= $3; i++)); do
    if [[ "$used" != *" $CLUSTER_SUBNET.$i "* ]]; then
      mkdir -p -- "$NODES_DIR/$node"
      echo "$CLUSTER_SUBNET.$i" >"$NODES_DIR/$node/address"
      echo "$CLUSTER_SUBNET.$i"
      return
    fi
  done
  die "no free address in $CLUSTER_SUBNET.$2-$3 for $node"
}

# ensure_node_s3_user <node>: the node's own MinIO user, with the policy cluster-up.sh wrote (the sweeps'
# bucket and nothing else), and its keys in the node's credentials file: a node holds no keys that
# administer MinIO, and one node's can be taken back alone (nodes-revoke.sh). Kept while both exist.
ensure_node_s3_user() {
  local user file secret
  user="$(node_s3_user "$1")" file="$(node_s3_credentials "$1")"
  [[ -s "$file" ]] && mc_admin admin user info cluster "$user" >/dev/null 2>&1 && return 0
  secret="$(random_hex 24)"
  mc_admin admin user add cluster "$user" "$secret" >/dev/null &&
    mc_admin admin policy attach cluster "$NODE_S3_POLICY" --user "$user" >/dev/null ||
    die "could not give $1 a MinIO user of its own ($user); is MinIO up (infra/cluster-up.sh)?"
  mkdir -p -- "$(dirname -- "$file")"
  (umask 077; printf '[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AWS_PROFILE_NAME" "$user" "$secret" >"$file.tmp")
  mv -f -- "$file.tmp" "$file"
}

# The build a node's worker runs ("" unversioned), as nodes-up started it.
node_build() { cat -- "$NODES_DIR/$1/build-id" 2>/dev/null || true; }
describe_build() { [[ -n "$1" ]] && echo "build $1" || echo unversioned; }

# start_node <node> <role> <first> <last>
start_node() {
  local node="$1" role="$2" name="node-$1" addr
  if pid="$(live_pid "$name")"; then
    [[ "$(node_build "$node")" == "$build" ]] ||
      die "$node is running ($(describe_build "$(node_build "$node")")), not $(describe_build "$build"): start this build's nodes under a --prefix of their own, or stop $node first (infra/nodes-down.sh $node)"
    log "$node: already running (pid $pid, $(describe_build "$build"))"
    # Started before nodes had MinIO users of their own (2026-12-05 23:45 UTC): it holds the root keys.
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "AWS_SHARED_CREDENTIALS_FILE=$AWS_CREDS_FILE"; then
      log "warning: $node runs with MinIO's root keys (started before nodes had keys of their own); restart it to give it its own: infra/nodes-down.sh $node && infra/nodes-up.sh ..."
    fi
    return 0
  fi
  addr="$(node_address "$node" "$3" "$4")"
  ensure_netns "$node" "$addr"
  mkdir -p -- "$NODES_DIR/$node/cache"
  # argv[0] is bin/node-<node> (a link to node), so live_pid and ps tell the nodes apart.
  ln -sfn -- "$NODE_BIN" "$BIN_DIR/$name"
  printf '%s' "$build" >"$NODES_DIR/$node/build-id"
  # Its own client certificate (CN = the node), which Temporal's mutual TLS asks of every client.
  tls_issue "$CLUSTER_TLS_CA_BASE" "$(node_certificate "$node")" "$node" client
  # And its own keys for MinIO, in place of stack.env's (the root user's).
  ensure_node_s3_user "$node"
  log "$node: starting $role worker ($(describe_build "$build")) in netns $NODE_PREFIX$node ($addr) ..."
  # Its metrics for Prometheus on its own address (a GPU node's further processes take the next ports).
  (cd -- "$REPO_ROOT" && spawn "$name" "${stack_env[@]}" SWEEP_BUILD_ID="$build" SWEEP_NODE_NAME="$node" SWEEP_CACHE_DIR="$NODES_DIR/$node/cache" \
    SWEEP_METRICS_ADDRESS="$addr:$METRICS_PORT" \
    AWS_SHARED_CREDENTIALS_FILE="$(node_s3_credentials "$node")" \
    TEMPORAL_TLS_CLIENT_CERT_PATH="$(node_certificate "$node").pem" TEMPORAL_TLS_CLIENT_KEY_PATH="$(node_certificate "$node").key" -- \
    ip netns exec "$NODE_PREFIX$node" "$BIN_DIR/$name" --import tsx workers/run-workers.ts "$role")
  started+=("$node")
}

# A node is up when its worker polls its queue (the log line after Worker.create succeeded).
node_polling() { grep -q '^\[worker\] polling' <(sed -n "$(grep -n '^=== .* starting ' "$LOG_DIR/node-$current.log" | tail -n 1 | cut -d: -f1),\$p" "$LOG_DIR/node-$current.log"); }

# start_named_node <node>: a gpu node by its name, else a cpu node.
start_named_node() {
  if [[ "$1" == "${prefix}gpu"* ]]; then start_node "$1" gpu 11 99; else start_node "$1" cpu,suggest 101 199; fi
}

started=()
t0=$SECONDS
for ((i = 1; i <= gpu; i++)); do start_named_node "${prefix}gpu$i"; done
for ((i = 1; i <= cpu; i++)); do start_named_node "${prefix}cpu$i"; done
count=${#started[@]}
for current in "${started[@]}"; do
  # A worker that exits while it starts is started once more, as a node's supervisor (systemd,
  # Kubernetes) would: a node's worker exited when its first calls went unanswered for 30-45 s, while
  # the bridge's address still changed with its ports (cluster-up.sh now sets it; docs/deploy.md).
  # One that is slow is not restarted.
  if ! (wait_healthy "node-$current" node_polling); then
    live_pid "node-$current" >/dev/null && exit 1
    log "$current: its worker exited while it started; starting it once more"
    start_named_node "$current"
    wait_healthy "node-$current" node_polling
  fi
done
(( count )) && log "started $count node(s) in $((SECONDS - t0))s"

printf '[nodes-up] nodes:\n'
for f in "$RUN_DIR"/node-*.pid; do
  [[ -e "$f" ]] || continue
  n="$(basename -- "$f" .pid)"; n="${n#node-}"
  pid="$(live_pid "node-$n" || echo dead)"
  addr="$(ip -n "$NODE_PREFIX$n" -4 -o addr show dev eth0 2>/dev/null | awk '{ print $4 }')"
  printf '  %-6s pid %-7s netns %-12s %-15s %-16s log %s\n' "$n" "$pid" "$NODE_PREFIX$n" "${addr:-?}" "$(describe_build "$(node_build "$n")")" "$LOG_DIR/node-$n.log"
done
