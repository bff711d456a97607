#!/usr/bin/env bash
# Stops worker nodes started by infra/nodes-up.sh and removes their network namespaces (which
# removes their veth pairs). TERM shuts a worker down (the SDK's: training stores its finished epochs
# and resumes elsewhere, other steps finish) for up to STACK_STOP_TIMEOUT seconds (default 20), then
# KILL; --kill is a node crash.
#
# Usage: infra/nodes-down.sh [<node> ...] [--kill|--term] [--purge]
#   no node   every node (gpu1, cpu1, ...)
#   --purge   also retire the nodes: take back their credentials as infra/nodes-revoke.sh does (their
#             files here are deleted, so nothing else could) and delete their dirs (local caches)
set -euo pipefail

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=infra/cluster-common.sh
source "$SCRIPT_DIR/cluster-common.sh"
STOP_TIMEOUT="${STACK_STOP_TIMEOUT:-20}"

log() { printf '[nodes-down] %s\n' "$*"; }
die() { printf '[nodes-down] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

nodes=()
signal=TERM
purge=0
for arg in "$@"; do
  case "$arg" in
    --kill) signal=KILL ;;
    --term) signal=TERM ;;
    --purge) purge=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $arg" ;;
    *) nodes+=("$arg") ;;
  esac
done
(( EUID == 0 )) || die "must run as root (ip netns); use sudo"
mkdir -p -- "$RUN_DIR"
exec 9>"$RUN_DIR/nodes.lock"
flock -w 300 9 || die "timed out waiting for another nodes-up/nodes-down (lock $RUN_DIR/nodes.lock)"

if (( ${#nodes[@]} == 0 )); then
  # Every node we know of: pid files, and namespaces with our prefix (a crash may leave either).
  for f in "$RUN_DIR"/node-*.pid; do [[ -e "$f" ]] && { n="$(basename -- "$f" .pid)"; nodes+=("${n#node-}"); }; done
  while read -r ns _; do [[ "$ns" == "$NODE_PREFIX"* ]] && nodes+=("${ns#"$NODE_PREFIX"}"); done < <(ip netns list)
  mapfile -t nodes < <(printf '%s\n' "${nodes[@]}" | sort -u | sed '/^$/d')
fi
(( ${#nodes[@]} )) || { log "no nodes"; exit 0; }

# In parallel: each TERM may wait for a worker to drain.
pids=()
for n in "${nodes[@]}"; do stop "node-$n" & pids+=($!); done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
(( rc == 0 )) || die "some node did not stop (see above)"

for n in "${nodes[@]}"; do
  ns="$NODE_PREFIX$n"
  if ip netns list | grep -q "^$ns\b"; then
    # Anything still inside (it should be empty now) goes too, then the namespace and its veth pair.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns"
    log "$n: removed netns $ns"
  fi
  ip link del "$ns-h" 2>/dev/null || true
  rm -f -- "$BIN_DIR/node-$n"
  # The address is free again.
  rm -f -- "$NODES_DIR/$n/address" "$NODES_DIR/$n/build-id"
done

if (( purge )); then
  # Credentials first: a dir is deleted only once what it held is refused.
  enrolled=()
  for n in "${nodes[@]}"; do [[ -s "$(node_certificate "$n").pem" ]] && enrolled+=("$n"); done
  (( ${#enrolled[@]} == 0 )) || revoke_nodes "${enrolled[@]}"
  for n in "${nodes[@]}"; do
    if [[ -d "$NODES_DIR/$n" ]]; then rm -rf -- "${NODES_DIR:?}/$n"; log "$n: purged $NODES_DIR/$n"; fi
  done
fi
