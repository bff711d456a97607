#!/usr/bin/env bash
# Stops the cluster profile started by infra/cluster-up.sh (and its worker nodes), by the pids in
# <cluster dir>/run: TERM (PostgreSQL: INT, its fast shutdown), then KILL after a timeout. Data is
# kept unless --purge is given.
#
# Usage: infra/cluster-down.sh [nodes|ui|temporal|temporal-<service>|minio|postgres|network ...] [--purge] [--kill]
#   no component   stop everything: nodes, servers, then remove the bridge
#   temporal       all the Temporal server's processes; temporal-history (-history-b, -matching,
#                  -matching-b, -frontend, -frontend-b, -worker) one of them
#   --purge        also delete the data of the stopped servers (postgres: both Temporal databases;
#                  minio: all 4 drives); nodes: retire them (infra/nodes-down.sh --purge: their
#                  credentials taken back, their dirs deleted); with no component, the whole
#                  cluster dir except bin/ (its CA and MinIO users with it)
#   --kill         send KILL at once (a crash, for recovery tests) instead of TERM
#
# Environment: STACK_STOP_TIMEOUT (seconds to wait after TERM before KILL, default 20).
set -euo pipefail

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=infra/cluster-common.sh
source "$SCRIPT_DIR/cluster-common.sh"
STOP_TIMEOUT="${STACK_STOP_TIMEOUT:-20}"

log() { printf '[cluster-down] %s\n' "$*"; }
die() { printf '[cluster-down] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

components=()
purge=0
signal=TERM
for arg in "$@"; do
  case "$arg" in
    nodes|ui|temporal|temporal-history|temporal-history-b|temporal-matching|temporal-matching-b|temporal-frontend|temporal-frontend-b|temporal-worker|minio|postgres|network) components+=("$arg") ;;
    --purge) purge=1 ;;
    --kill) signal=KILL ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done
all=0
(( ${#components[@]} )) || { all=1; components=(nodes ui temporal minio postgres network); }
(( EUID == 0 )) || die "must run as root (it removes network namespaces and the bridge); use sudo"

mkdir -p -- "$RUN_DIR"
if [[ " ${components[*]} " == *" nodes "* ]]; then
  node_options=("$( [[ $signal == KILL ]] && echo --kill || echo --term)")
  # Named with --purge, the nodes are retired; with everything purged, the CA and MinIO's users go too.
  if (( purge && !all )); then node_options+=(--purge); fi
  bash "$SCRIPT_DIR/nodes-down.sh" "${node_options[@]}"
fi

exec 9>"$RUN_DIR/cluster.lock"
flock -w 300 9 || die "timed out waiting for another cluster-up/cluster-down (lock $RUN_DIR/cluster.lock)"

for c in "${components[@]}"; do
  case "$c" in
    ui) stop temporal-ui-server ;;
    temporal)
      for ((i = ${#TEMPORAL_PROCESSES[@]} - 1; i >= 0; i--)); do stop "temporal-${TEMPORAL_PROCESSES[i]}"; done
      # The single process cluster-up.sh started before 2026-12-05.
      if [[ -f "$RUN_DIR/temporal-server.pid" ]]; then stop temporal-server; fi ;;
    temporal-*) stop "$c" ;;
    minio) stop minio ;;
    postgres) stop postgres "$( [[ $signal == KILL ]] && echo KILL || echo INT)" ;;
    network)
      if compgen -G "$RUN_DIR/node-*.pid" >/dev/null || ip -o link show master "$CLUSTER_BRIDGE" 2>/dev/null | grep -q .; then
        log "network: nodes still attached to $CLUSTER_BRIDGE; keeping it (run infra/nodes-down.sh first)"
      elif ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1; then
        ip link del "$CLUSTER_BRIDGE"
        log "network: removed bridge $CLUSTER_BRIDGE"
      fi
      ;;
  esac
done

if (( purge )); then
  for c in "${components[@]}"; do
    case "$c" in
      postgres|minio)
        if [[ -d "$DATA_DIR/$c" ]]; then rm -rf -- "${DATA_DIR:?}/$c"; log "$c: purged $DATA_DIR/$c"; fi ;;
    esac
  done
  if (( all )); then
    rm -rf -- "${DATA_DIR:?}" "${CONFIG_DIR:?}" "${NODES_DIR:?}" "${CLUSTER_TLS_DIR:?}" "$ENV_FILE" "$AWS_CREDS_FILE" "$MINIO_CREDS_FILE" "$PG_CREDS_FILE"
    log "purged $CLUSTER_DIR (kept bin/, schema/ and logs/)"
  fi
fi
