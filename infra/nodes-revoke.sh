#!/usr/bin/env bash
# Takes back worker nodes' credentials, for a node lost, stolen or retired: its client certificate's
# serial goes on the cluster's revocation list (tls/revoked-certificates; the Temporal frontend checks
# it at every call), and its own MinIO user is removed. From then on the node's processes are refused
# by Temporal (PERMISSION_DENIED) and by MinIO (InvalidAccessKeyId), whether or not they still run: a
# lost machine cannot be reached to stop them. Their tasks time out and run again on other nodes.
# The node's certificate and keys are deleted here; `infra/nodes-up.sh` started again for a node of the
# same name issues it a new certificate and a new MinIO user (a machine set up anew).
#
# Usage: infra/nodes-revoke.sh <node> ...
#   then, where the node's machine can still be reached: infra/nodes-down.sh <node>
set -euo pipefail

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=infra/cluster-common.sh
source "$SCRIPT_DIR/cluster-common.sh"

log() { printf '[nodes-revoke] %s\n' "$*"; }
die() { printf '[nodes-revoke] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

nodes=()
for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $arg" ;;
    *) nodes+=("$arg") ;;
  esac
done
(( ${#nodes[@]} )) || { usage >&2; die "name the node(s) to revoke, e.g. infra/nodes-revoke.sh gpu2"; }
[[ -s "$ENV_FILE" ]] || die "$ENV_FILE missing; no cluster here (infra/cluster-up.sh)"
mkdir -p -- "$RUN_DIR"
exec 9>"$RUN_DIR/nodes.lock"
flock -w 300 9 || die "timed out waiting for another nodes-up/nodes-down/nodes-revoke (lock $RUN_DIR/nodes.lock)"

# Every certificate first, before anything is changed: a name with none is a typo or revoked already.
for node in "${nodes[@]}"; do
  [[ -s "$(node_certificate "$node").pem" ]] || die "$node has no certificate ($(node_certificate "$node").pem): not a node of this cluster, or revoked already"
done
revoke_nodes "${nodes[@]}"
