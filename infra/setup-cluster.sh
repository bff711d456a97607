#!/usr/bin/env bash
# Installs the cluster profile's tools into $SWEEP_CLUSTER_DIR/bin (default <repo>/.stack/cluster/bin):
#   temporal-server     the Temporal server with the cluster's authorization, built from infra/temporal-server
#                       (go.temporal.io/server, as its cmd/server, plus a claim mapper for the cluster's
#                       certificates; its tests run first)
#   temporal-sql-tool   its schema tool, built from go.temporal.io/server/cmd/tools/sql
#   temporal-ui-server  the Web UI (github.com/temporalio/ui-server/v2, which embeds the UI's assets;
#                       the version the temporal CLI embeds); optional: a failed build is a warning,
#                       SWEEP_CLUSTER_UI=0 skips it
#   mc                  MinIO's client (github.com/minio/mc, at the version the pinned MinIO server's go.mod
#                       requires), for its admin API: each node's own MinIO user (nodes-up.sh), taken back
#                       by nodes-revoke.sh. AGPL, as MinIO is: run as a program, never linked into ours
#   postgres            a link to Debian's PostgreSQL server binary ($PG_BIN, default the newest
#                       /usr/lib/postgresql/*/bin)
#   minio               a link to the dev profile's MinIO (.stack/bin/minio, installed by setup.sh)
# and copies the server's PostgreSQL schema files (they ship in its Go module) into
# $SWEEP_CLUSTER_DIR/schema/<version>, so infra/cluster-up.sh runs without go.
# Idempotent: the Go binaries are rebuilt only when `go version -m` does not report the pinned
# module version. The temporal CLI (.stack/bin/temporal) is used from the dev profile as is.
#
# Needs: go (or $GO; the pinned toolchain $TEMPORAL_GOTOOLCHAIN is fetched from the Go module proxy
# on the first build), PostgreSQL server binaries (Debian: postgresql-15), infra/setup.sh run once.
set -euo pipefail

# v1.32.2's go.mod needs Go >= 1.26.10; the go command downloads this toolchain from the proxy.
TEMPORAL_GOTOOLCHAIN="${TEMPORAL_GOTOOLCHAIN:-go1.27.3}"

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
# Resolved: a worktree's .stack is often a link to the main checkout's, and the links made here
# must outlive that worktree.
mkdir -p -- "$STACK_DIR"
DEV_STACK_DIR="$(cd -- "$STACK_DIR" && pwd -P)"
# shellcheck source=infra/cluster-common.sh
source "$SCRIPT_DIR/cluster-common.sh"
mkdir -p -- "$BIN_DIR" "$RUN_DIR"
GO="${GO:-go}"

log() { printf '[setup-cluster] %s\n' "$*"; }
die() { printf '[setup-cluster] ERROR: %s\n' "$*" >&2; exit 1; }

exec 8>"$RUN_DIR/setup.lock"
flock -w 1800 8 || die "timed out waiting for another setup-cluster run (lock $RUN_DIR/setup.lock)"
started=$SECONDS

UI_SERVER_MODULE="github.com/temporalio/ui-server/v2"
UI_SERVER_VERSION="v2.54.1"
# The version infra/setup.sh's MinIO server requires in its go.mod (its admin API is the server's).
MC_MODULE="github.com/minio/mc"
MC_VERSION="v0.0.0-20250313080218-cf909e1063a9"

# module_version <binary> <package path> <module>: the module's version embedded in the binary when
# it was built from that package, else nothing.
module_version() {
  [[ -x "$1" ]] || return 0
  "$GO" version -m "$1" 2>/dev/null | awk -v p="$2" -v m="$3" '
    $1 == "path" && $2 == p { ok = 1 }
    $1 == "mod" && $2 == m && ok { print $3; exit }'
}

# go_install <module> <version> <package> <installed name>; returns 1 when the build fails.
go_install() {
  local module="$1" version="$2" pkg="$3" name="$4" have
  have="$(module_version "$BIN_DIR/$name" "$pkg" "$module")"
  if [[ "$have" == "$version" ]]; then
    log "$name: $version already installed"
    return 0
  fi
  [[ -n "$have" ]] && log "$name: found $have, want $version"
  command -v "$GO" >/dev/null 2>&1 || die "go not found (set GO=...); needed to build $pkg@$version"
  log "$name: building $pkg@$version with $TEMPORAL_GOTOOLCHAIN under nice -n 19 (cold: many minutes on 2 cores) ..."
  local tmpbin="$BIN_DIR/.gobin.tmp.$$" t0=$SECONDS build_log="$LOG_DIR/$name-build.log"
  rm -rf -- "$tmpbin"
  mkdir -p -- "$tmpbin" "$LOG_DIR"
  # Outside the repository, so the go command ignores any go.mod/go.work around it. Its line per
  # downloaded module (hundreds, cold) goes to a log, shown only on failure (as setup.sh does).
  if ! (cd / && GOBIN="$tmpbin" GOTOOLCHAIN="$TEMPORAL_GOTOOLCHAIN" nice -n 19 "$GO" install "$pkg@$version") >"$build_log" 2>&1; then
    rm -rf -- "$tmpbin"
    tail -n 30 -- "$build_log" >&2
    log "go install $pkg@$version failed (needs the Go module proxy for the module and toolchain $TEMPORAL_GOTOOLCHAIN; whole output: $build_log)"
    return 1
  fi
  mv -f -- "$tmpbin/$(basename -- "$pkg")" "$BIN_DIR/$name"
  rm -rf -- "$tmpbin"
  have="$(module_version "$BIN_DIR/$name" "$pkg" "$module")"
  [[ "$have" == "$version" ]] || die "built $name reports module version '$have', expected $version"
  log "$name: installed $version in $((SECONDS - t0))s"
}

# link <name> <target>: $BIN_DIR/<name> -> target. The servers are started through these paths, so
# the pid checks in common.sh (argv[0] is $BIN_DIR/<name>) recognise them.
link() {
  [[ -x "$2" ]] || die "$2 missing; $3"
  if [[ "$(readlink -- "$BIN_DIR/$1" 2>/dev/null || true)" != "$2" ]]; then
    ln -sfn -- "$2" "$BIN_DIR/$1"
    log "$1: linked -> $2"
  fi
}

# build_temporal_server: infra/temporal-server into $BIN_DIR/temporal-server, again whenever its source
# changes (the digest of its files is kept beside the binary); its tests first. Returns 1 when either fails.
build_temporal_server() {
  local src="$SCRIPT_DIR/temporal-server" name=temporal-server digest
  grep -qE "^(require )?[[:space:]]*$TEMPORAL_SERVER_MODULE $TEMPORAL_SERVER_VERSION\$" "$src/go.mod" ||
    die "$src/go.mod does not require $TEMPORAL_SERVER_MODULE $TEMPORAL_SERVER_VERSION (infra/cluster-common.sh): keep the two the same"
  digest="$(cat -- "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -d' ' -f1)"
  if [[ -x "$BIN_DIR/$name" && "$(cat -- "$BIN_DIR/$name.source" 2>/dev/null)" == "$digest" ]]; then
    log "$name: built from this source already ($TEMPORAL_SERVER_VERSION)"
    return 0
  fi
  command -v "$GO" >/dev/null 2>&1 || die "go not found (set GO=...); needed to build $src"
  log "$name: testing and building $src ($TEMPORAL_SERVER_MODULE $TEMPORAL_SERVER_VERSION) with $TEMPORAL_GOTOOLCHAIN under nice -n 19 (cold: many minutes on 2 cores) ..."
  local tmp="$BIN_DIR/.$name.tmp.$$" t0=$SECONDS build_log="$LOG_DIR/$name-build.log"
  mkdir -p -- "$LOG_DIR"
  # go.sum as committed: nothing is resolved anew.
  if ! (cd -- "$src" && export GOTOOLCHAIN="$TEMPORAL_GOTOOLCHAIN" GOFLAGS=-mod=readonly &&
        nice -n 19 "$GO" test ./... && nice -n 19 "$GO" build -o "$tmp" .) >"$build_log" 2>&1; then
    rm -f -- "$tmp"
    tail -n 30 -- "$build_log" >&2
    log "testing or building $src failed (needs the Go module proxy for its modules and toolchain $TEMPORAL_GOTOOLCHAIN; whole output: $build_log)"
    return 1
  fi
  mv -f -- "$tmp" "$BIN_DIR/$name"
  printf '%s\n' "$digest" >"$BIN_DIR/$name.source"
  log "$name: installed in $((SECONDS - t0))s"
}

build_temporal_server || die "could not build temporal-server"
go_install "$TEMPORAL_SERVER_MODULE" "$TEMPORAL_SERVER_VERSION" "$TEMPORAL_SERVER_MODULE/cmd/tools/sql" temporal-sql-tool ||
  die "could not build temporal-sql-tool"
go_install "$MC_MODULE" "$MC_VERSION" "$MC_MODULE" mc || die "could not build mc"
if [[ "${SWEEP_CLUSTER_UI:-1}" != 0 ]]; then
  go_install "$UI_SERVER_MODULE" "$UI_SERVER_VERSION" "$UI_SERVER_MODULE/cmd/server" temporal-ui-server ||
    log "warning: no Web UI for the cluster (the build failed; see above); everything else works without it"
fi

# The schema files of the pinned server, beside the tools: cluster-up.sh applies them on every start,
# and the module cache they come from may be cleaned, or go not on PATH where the cluster runs.
if [[ ! -d "$SCHEMA_COPY_DIR/postgresql/v12/temporal/versioned" ]]; then
  command -v "$GO" >/dev/null 2>&1 || die "go not found (set GO=...); needed once to copy the schema files of $TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION"
  module_dir="$(cd / && "$GO" env GOMODCACHE)/$TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION"
  [[ -d "$module_dir/schema/postgresql/v12" ]] ||
    (cd / && GOTOOLCHAIN="$TEMPORAL_GOTOOLCHAIN" "$GO" mod download "$TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION") ||
    die "could not download $TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION for its schema files"
  rm -rf -- "$SCHEMA_COPY_DIR.tmp"
  mkdir -p -- "$SCHEMA_COPY_DIR.tmp"
  cp -R -- "$module_dir/schema/postgresql" "$SCHEMA_COPY_DIR.tmp/"
  # Files in the module cache are read-only; the copy must stay removable (rm -rf of the cluster dir).
  chmod -R u+w -- "$SCHEMA_COPY_DIR.tmp"
  rm -rf -- "$SCHEMA_COPY_DIR"
  mv -- "$SCHEMA_COPY_DIR.tmp" "$SCHEMA_COPY_DIR"
  log "schema: copied the PostgreSQL schema files of $TEMPORAL_SERVER_VERSION into $SCHEMA_COPY_DIR"
fi

link postgres "${PG_BIN:-/usr/lib/postgresql/NN/bin}/postgres" "install PostgreSQL (Debian: apt-get install postgresql-15) or set PG_BIN"
link initdb "$PG_BIN/initdb" "install PostgreSQL or set PG_BIN"
link minio "$DEV_STACK_DIR/bin/minio" "run infra/setup.sh first (it builds MinIO)"
link temporal "$(readlink -f -- "$DEV_STACK_DIR/bin/temporal" || true)" "run infra/setup.sh first (it installs the temporal CLI)"
id postgres >/dev/null 2>&1 || die "no 'postgres' user (PostgreSQL refuses to run as root); install Debian's postgresql package"

log "done in $((SECONDS - started))s; tools in $BIN_DIR"
