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
load_minio_credentials

# Every certificate first, before anything is changed: a name with none is a typo or revoked already.
serials=()
for node in "${nodes[@]}"; do
  certificate="$(node_certificate "$node").pem"
  [[ -s "$certificate" ]] || die "$node has no certificate ($certificate): not a node of this cluster, or revoked already"
  serial="$(openssl x509 -in "$certificate" -noout -serial)" || die "cannot read the serial number of $certificate"
  serials+=("${serial#serial=}")
done

# The list, rewritten whole and moved into place, so the frontend never reads half of it.
{
  if [[ -s "$CLUSTER_TLS_REVOKED" ]]; then cat -- "$CLUSTER_TLS_REVOKED"; else echo "# serial (hex) node revoked-at: written by infra/nodes-revoke.sh"; fi
  for i in "${!nodes[@]}"; do printf '%s %s %s\n' "${serials[$i]}" "${nodes[$i]}" "$(date -u +%FT%TZ)"; done
} >"$CLUSTER_TLS_REVOKED.tmp"
chmod 644 -- "$CLUSTER_TLS_REVOKED.tmp"
mv -f -- "$CLUSTER_TLS_REVOKED.tmp" "$CLUSTER_TLS_REVOKED"

for i in "${!nodes[@]}"; do
  node="${nodes[$i]}" user="$(node_s3_user "${nodes[$i]}")"
  log "$node: certificate (serial ${serials[$i]}) revoked: Temporal refuses it from its next call"
  if mc_admin admin user info cluster "$user" >/dev/null 2>&1; then
    mc_admin admin user remove cluster "$user" >/dev/null || die "could not remove $node's MinIO user $user; see $LOG_DIR/minio.log"
    log "$node: MinIO user $user removed: MinIO refuses its keys"
  else
    log "$node: no MinIO user $user (removed already, or none made: a node started before nodes had keys of their own holds MinIO's root keys, which only new root keys for MinIO take back)"
  fi
  rm -f -- "$(node_certificate "$node")".{pem,key} "$(node_s3_credentials "$node")"
  live_pid "node-$node" >/dev/null && log "$node: its processes still run, refused; stop them: infra/nodes-down.sh $node"
done

# A frontend started before the list existed (before 2026-12-05 23:50 UTC) does not read it.
if pid="$(live_pid temporal-frontend)" && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--revoked-certificates $CLUSTER_TLS_REVOKED "; then
  log "warning: temporal-frontend (pid $pid) was started without the revocation list, so Temporal still serves the revoked certificates; restart it: infra/setup-cluster.sh && infra/cluster-down.sh temporal-frontend && infra/cluster-up.sh temporal"
fi
