#!/usr/bin/env bash
# Stops the local stack started by infra/stack-up.sh, by the pids in $SWEEP_STACK_DIR/run (TERM,
# then KILL after a timeout). Data under .stack/data is kept unless --purge is given.
#
# Usage: infra/stack-down.sh [temporal|minio ...] [--purge] [--kill]
#   no component   stop both
#   temporal       stop only the Temporal dev server
#   minio          stop only MinIO
#   --purge        also delete the data of the stopped component(s) (.stack/data/<component>)
#   --kill         send KILL at once (a crash, for recovery tests) instead of TERM
#
# Environment: STACK_STOP_TIMEOUT (seconds to wait after TERM before KILL, default 20).
set -euo pipefail

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
STOP_TIMEOUT="${STACK_STOP_TIMEOUT:-20}"

log() { printf '[stack-down] %s\n' "$*"; }
die() { printf '[stack-down] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

components=()
purge=0
signal=TERM
for arg in "$@"; do
  case "$arg" in
    temporal|minio) components+=("$arg") ;;
    --purge) purge=1 ;;
    --kill) signal=KILL ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done
(( ${#components[@]} )) || components=(temporal minio)

if [[ ! -d "$STACK_DIR" ]]; then
  log "nothing to do: $STACK_DIR does not exist"
  exit 0
fi
STACK_DIR="$(cd -- "$STACK_DIR" && pwd -P)"
RUN_DIR="$STACK_DIR/run"
DATA_DIR="$STACK_DIR/data"
mkdir -p -- "$RUN_DIR"

exec 9>"$RUN_DIR/stack.lock"
flock -w 300 9 || die "timed out waiting for another stack-up/stack-down (lock $RUN_DIR/stack.lock)"

# gone, stop: infra/common.sh

for c in "${components[@]}"; do
  stop "$c"
done

if (( purge )); then
  for c in "${components[@]}"; do
    if [[ -d "$DATA_DIR/$c" ]]; then
      rm -rf -- "${DATA_DIR:?}/$c"
      log "$c: purged $DATA_DIR/$c"
    fi
  done
  rmdir -- "$DATA_DIR" 2>/dev/null || true
fi
