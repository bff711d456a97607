#!/usr/bin/env bash
# Installs the optional native TensorFlow backend, @tensorflow/tfjs-node, without its install script.
#
# tfjs-node's own install step downloads libtensorflow from a host this project cannot reach, so at
# `npm ci` that step fails and npm drops the optional dependency. This script builds it instead from
# registry packages only:
#   1. pip-downloads the pinned tensorflow-cpu wheel from PyPI into .stack/cache/tfjs-node/ (sha256
#      checked); its libtensorflow_cc.so.2 exports TensorFlow's C and eager C API (TF_*, TFE_*), and
#      it ships the C headers;
#   2. extracts libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C headers once;
#   3. `npm install --no-save --ignore-scripts @tensorflow/tfjs-node@<pinned>` (package.json and the
#      lockfile are left untouched), links its deps/ to the extracted files, and builds the N-API
#      addon with node-pre-gyp/node-gyp against the local Node headers (built once, then cached);
#   4. verifies: model/tf-backend.ts chooses the native backend on this Node, a matMul runs and a
#      small tf.sequential model trains a few steps with model.fit.
# Idempotent: a second run (or a run after `npm ci` wiped node_modules) reuses the cache and takes
# a few seconds. If anything fails it exits non-zero with a message and leaves no half-built addon
# behind, so model/tf-backend.ts falls back to wasm. SWEEP_SKIP_TFJS_NODE=1 skips it (exit 0).
#
# Needs: linux x86_64 with AVX, node + npm, python3 with pip (first run only), g++, make, and Node's
# C headers (<node prefix>/include/node/node_api.h; node-gyp must not try to download them).
# Disk: about 820 MB under .stack/cache/tfjs-node (the 207 MB wheel plus the 614 MB of libraries).
set -euo pipefail

TFJS_NODE_VERSION="4.22.0"
TF_WHEEL_VERSION="2.15.1"
TF_WHEEL_FILE="tensorflow_cpu-${TF_WHEEL_VERSION}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
TF_WHEEL_SHA256="54660c074d7241a503e81edfd9f5ef5af88f64051b72e2945f26318c790f2d26"
NAPI_BUILD_VERSION="8"  # highest N-API version tfjs-node 4.22 lists; dist/index.js looks in lib/napi-v8

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
STACK_DIR="${SWEEP_STACK_DIR:-$REPO_ROOT/.stack}"

log() { printf '[setup-tfjs-node] %s\n' "$*"; }
die() { printf '[setup-tfjs-node] ERROR: %s\n' "$*" >&2; printf '[setup-tfjs-node] tfjs-node is not installed; the product falls back to the wasm backend.\n' >&2; exit 1; }

if [[ "${SWEEP_SKIP_TFJS_NODE:-}" == "1" ]]; then
  log "skipped (SWEEP_SKIP_TFJS_NODE=1); the product uses the wasm backend"
  exit 0
fi

started=$SECONDS

# --- preconditions ------------------------------------------------------------------------------
[[ "$(uname -s)/$(uname -m)" == "Linux/x86_64" ]] || die "only linux x86_64 is supported (this is $(uname -s)/$(uname -m))"
grep -qw avx /proc/cpuinfo || die "this CPU lacks AVX, which the TensorFlow $TF_WHEEL_VERSION wheel needs"
command -v node >/dev/null 2>&1 || die "node not found"
command -v npm >/dev/null 2>&1 || die "npm not found"
[[ -f "$REPO_ROOT/node_modules/@tensorflow/tfjs/package.json" ]] || die "run 'npm ci' first ($REPO_ROOT/node_modules/@tensorflow/tfjs is missing)"
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || die "python3 not found (set PYTHON=...); needed for pip and node-gyp"

mkdir -p -- "$STACK_DIR/run" "$STACK_DIR/cache"
STACK_DIR="$(cd -- "$STACK_DIR" && pwd -P)"
CACHE_DIR="$STACK_DIR/cache/tfjs-node"
mkdir -p -- "$CACHE_DIR"

# Serialise concurrent runs.
exec 9>"$STACK_DIR/run/setup-tfjs-node.lock"
flock -w 900 9 || die "timed out waiting for another run (lock $STACK_DIR/run/setup-tfjs-node.lock)"

PKG_DIR="$REPO_ROOT/node_modules/@tensorflow/tfjs-node"
BINDING="$PKG_DIR/lib/napi-v$NAPI_BUILD_VERSION/tfjs_binding.node"
LIBTF_DIR="$CACHE_DIR/libtensorflow-$TF_WHEEL_VERSION"
BUILD_KEY="tfjs-node-$TFJS_NODE_VERSION-tf-$TF_WHEEL_VERSION-napi-v$NAPI_BUILD_VERSION"
BUILT_BINDING="$CACHE_DIR/build/$BUILD_KEY/tfjs_binding.node"

# On any failure after this point, remove the addon so that `require('@tensorflow/tfjs-node')`
# throws cleanly (and the backend chooser moves on to wasm) rather than loading something broken.
remove_binding_on_error() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then rm -f -- "$BINDING"; fi
}
trap remove_binding_on_error EXIT

# --- 1. the tensorflow-cpu wheel ----------------------------------------------------------------
WHEEL="$CACHE_DIR/wheels/$TF_WHEEL_FILE"
wheel_ok() { [[ -f "$WHEEL" ]] && [[ "$(sha256sum -- "$WHEEL" | cut -d' ' -f1)" == "$TF_WHEEL_SHA256" ]]; }

if [[ -f "$LIBTF_DIR/.complete" && "$(cat -- "$LIBTF_DIR/.complete")" == "$TF_WHEEL_SHA256" ]]; then
  log "libtensorflow: $TF_WHEEL_VERSION already extracted"
else
  if wheel_ok; then
    log "wheel: $TF_WHEEL_FILE already downloaded"
  else
    "$PYTHON" -m pip --version >/dev/null 2>&1 || die "'$PYTHON -m pip' does not work; install pip"
    log "wheel: downloading tensorflow-cpu==$TF_WHEEL_VERSION from PyPI (207 MB) ..."
    tmp="$CACHE_DIR/.wheels.tmp.$$"
    rm -rf -- "$tmp"
    if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip download --quiet \
        --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 \
        --implementation cp --abi cp311 -d "$tmp" "tensorflow-cpu==$TF_WHEEL_VERSION"; then
      rm -rf -- "$tmp"
      die "pip download tensorflow-cpu==$TF_WHEEL_VERSION failed"
    fi
    [[ -f "$tmp/$TF_WHEEL_FILE" ]] || { ls -- "$tmp" >&2; rm -rf -- "$tmp"; die "pip did not produce $TF_WHEEL_FILE"; }
    mkdir -p -- "$CACHE_DIR/wheels"
    mv -f -- "$tmp/$TF_WHEEL_FILE" "$WHEEL"
    rm -rf -- "$tmp"
    wheel_ok || die "sha256 of $WHEEL is not $TF_WHEEL_SHA256"
  fi

  log "libtensorflow: extracting libraries and C headers ..."
  tmp="$CACHE_DIR/.libtensorflow.tmp.$$"
  rm -rf -- "$tmp"
  mkdir -p -- "$tmp/lib" "$tmp/include"
  # The wheel keeps the libraries at tensorflow/*.so.2 and the headers under tensorflow/include/.
  # tfjs-node's binding needs tensorflow/c/**, tensorflow/core/platform/ctstring*.h and what those
  # forward to under tsl/.
  if ! "$PYTHON" - "$WHEEL" "$tmp" <<'PY'
import os, shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
libs = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}
inc = ("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/", "tensorflow/include/tsl/")
found = set()
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if info.is_dir():
            continue
        if name in libs:
            dest = os.path.join(out, "lib", os.path.basename(name)); found.add(name)
        elif name.startswith(inc):
            dest = os.path.join(out, "include", name[len("tensorflow/include/"):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        if name in libs:
            os.chmod(dest, 0o755)
missing = libs - found
if missing:
    sys.exit("missing from the wheel: " + ", ".join(sorted(missing)))
PY
  then
    rm -rf -- "$tmp"
    die "could not extract libtensorflow from $WHEEL"
  fi
  for h in tensorflow/c/c_api.h tensorflow/c/eager/c_api.h tensorflow/core/platform/ctstring_internal.h; do
    [[ -f "$tmp/include/$h" ]] || { rm -rf -- "$tmp"; die "the wheel lacks the header $h"; }
  done
  if command -v nm >/dev/null 2>&1; then
    syms="$(nm -D --defined-only "$tmp/lib/libtensorflow_cc.so.2" | awk '$3 ~ /^TFE?_/ {sub(/@.*/, "", $3); print $3}')"
    for sym in TF_NewStatus TFE_NewContext TFE_Execute TFE_TensorHandleResolve; do
      grep -qx -- "$sym" <<<"$syms" || { rm -rf -- "$tmp"; die "libtensorflow_cc.so.2 does not export $sym"; }
    done
  fi
  # binding.gyp links -ltensorflow -ltensorflow_framework; the addon then records the sonames
  # (libtensorflow_cc.so.2, libtensorflow_framework.so.2) and finds them via rpath $ORIGIN/../../deps/lib.
  ln -s libtensorflow_cc.so.2 "$tmp/lib/libtensorflow.so.2"
  ln -s libtensorflow_cc.so.2 "$tmp/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$tmp/lib/libtensorflow_framework.so"
  printf '%s\n' "$TF_WHEEL_SHA256" > "$tmp/.complete"
  rm -rf -- "$LIBTF_DIR"
  mv -- "$tmp" "$LIBTF_DIR"
  log "libtensorflow: extracted to ${LIBTF_DIR#"$STACK_DIR"/}"
fi

# --- 2. the npm package -------------------------------------------------------------------------
installed_version() { node -p "require('$1/package.json').version" 2>/dev/null || true; }

if [[ "$(installed_version "$PKG_DIR")" == "$TFJS_NODE_VERSION" ]]; then
  log "npm: @tensorflow/tfjs-node@$TFJS_NODE_VERSION already in node_modules"
else
  log "npm: installing @tensorflow/tfjs-node@$TFJS_NODE_VERSION (--no-save --ignore-scripts) ..."
  (cd -- "$REPO_ROOT" && npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
      "@tensorflow/tfjs-node@$TFJS_NODE_VERSION") || die "npm install @tensorflow/tfjs-node@$TFJS_NODE_VERSION failed"
  [[ "$(installed_version "$PKG_DIR")" == "$TFJS_NODE_VERSION" ]] || die "npm did not install @tensorflow/tfjs-node@$TFJS_NODE_VERSION"
fi
# `npm install` also brings in the optional @tensorflow/tfjs-node-gpu from the lockfile, without its
# addon (that needs CUDA's libtensorflow). Without an addon it cannot load, yet requiring it registers
# ~170 'tensorflow' kernels before it throws, so the later tfjs-node require logs "already registered"
# for each. `npm ci` drops it; do the same.
GPU_DIR="$REPO_ROOT/node_modules/@tensorflow/tfjs-node-gpu"
if [[ -d "$GPU_DIR" ]] && ! compgen -G "$GPU_DIR/lib/napi-v*/tfjs_binding.node" >/dev/null; then
  log "npm: removing @tensorflow/tfjs-node-gpu, which has no addon"
  rm -rf -- "$GPU_DIR"
fi
# tfjs-node must register its backend in the project's tfjs-core, not in a nested copy of its own.
[[ ! -e "$PKG_DIR/node_modules/@tensorflow/tfjs-core" ]] \
  || die "npm nested a second @tensorflow/tfjs-core under tfjs-node; the project's @tensorflow/tfjs must be $TFJS_NODE_VERSION"

# deps/ -> the extracted wheel contents (what tfjs-node's own install script would have downloaded).
if [[ "$(readlink -- "$PKG_DIR/deps" 2>/dev/null || true)" != "$LIBTF_DIR" ]]; then
  rm -rf -- "$PKG_DIR/deps"
  ln -s -- "$LIBTF_DIR" "$PKG_DIR/deps"
fi

# --- 3. the native addon ------------------------------------------------------------------------
if [[ -f "$BUILT_BINDING" ]]; then
  log "addon: using the cached build ${BUILT_BINDING#"$STACK_DIR"/}"
else
  command -v g++ >/dev/null 2>&1 || die "g++ not found; needed to build the addon (apt-get install g++)"
  command -v make >/dev/null 2>&1 || die "make not found; needed to build the addon (apt-get install make)"
  NODEDIR="${npm_config_nodedir:-$(cd -- "$(dirname -- "$(node -p process.execPath)")/.." && pwd -P)}"
  [[ -f "$NODEDIR/include/node/node_api.h" ]] \
    || die "Node's C headers are not at $NODEDIR/include/node (node-gyp would try to download them); set npm_config_nodedir to a Node install prefix that has include/node/node_api.h"
  PRE_GYP="$(cd -- "$PKG_DIR" && node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp')" 2>/dev/null)" \
    || die "@mapbox/node-pre-gyp (a dependency of tfjs-node) is not installed"
  # node-pre-gyp looks for node-gyp inside an npm beside the node binary; the Node in .stack/node has
  # no npm, so point it at the node-gyp that comes with the npm on PATH.
  if [[ -z "${npm_config_node_gyp:-}" ]]; then
    npm_config_node_gyp="$(dirname -- "$(readlink -f -- "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
    [[ -f "$npm_config_node_gyp" ]] \
      || die "node-gyp is not at $npm_config_node_gyp (it comes with npm); set npm_config_node_gyp to node-gyp's bin/node-gyp.js"
    export npm_config_node_gyp
  fi
  log "addon: building tfjs_binding.node against libtensorflow $TF_WHEEL_VERSION (nodedir $NODEDIR) ..."
  build_log="$CACHE_DIR/build-$BUILD_KEY.log"
  if ! (cd -- "$PKG_DIR" && rm -rf build lib \
        && node "$PRE_GYP" rebuild --build-from-source --nodedir="$NODEDIR") \
        >"$build_log" 2>&1; then
    tail -n 40 -- "$build_log" >&2
    die "building the addon failed (full log: $build_log)"
  fi
  [[ -f "$BINDING" ]] || die "the build did not produce ${BINDING#"$REPO_ROOT"/} (log: $build_log)"
  mkdir -p -- "$(dirname -- "$BUILT_BINDING")"
  cp -f -- "$BINDING" "$BUILT_BINDING.tmp" && mv -f -- "$BUILT_BINDING.tmp" "$BUILT_BINDING"
  rm -rf -- "$PKG_DIR/build"
  log "addon: built and cached"
fi
if ! cmp -s -- "$BUILT_BINDING" "$BINDING" 2>/dev/null; then
  mkdir -p -- "$(dirname -- "$BINDING")"
  cp -f -- "$BUILT_BINDING" "$BINDING"
fi

# --- 4. verify ----------------------------------------------------------------------------------
log "verify: backend, matMul, model.fit ..."
# Through model/tf-backend.ts, the way the workers load it, so this also checks what it needs on this Node.
verify_out="$(cd -- "$REPO_ROOT" && timeout 180 node --import tsx -e '
const tf = require("@tensorflow/tfjs");
const { initTensorflow } = require("./model/tf-backend.ts");
(async () => {
  const chosen = await initTensorflow();
  if (chosen.name !== "tensorflow" && chosen.name !== "tensorflow-gpu") throw new Error("the backend chooser took " + chosen.name + ": " + chosen.notes.join("; "));
  const c = await tf.matMul(tf.randomNormal([512, 512]), tf.randomNormal([512, 512])).data();
  if (c.length !== 512 * 512 || !c.every(Number.isFinite)) throw new Error("matMul gave a bad result");
  const model = tf.sequential();
  model.add(tf.layers.dense({units: 32, activation: "relu", inputShape: [16]}));
  model.add(tf.layers.dense({units: 3, activation: "softmax"}));
  model.compile({optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy"});
  const x = tf.randomNormal([256, 16], 0, 1, "float32", 7);
  const y = tf.oneHot(tf.argMax(x.slice([0, 0], [256, 3]), 1), 3);
  const h = await model.fit(x, y, {epochs: 5, batchSize: 32, verbose: 0});
  const l = h.history.loss;
  if (!l.every(Number.isFinite) || !(l[l.length - 1] < l[0])) throw new Error("model.fit did not reduce the loss: " + l.join(", "));
  const passed = chosen.notes.length ? " (passed over " + chosen.notes.join("; ") + ")" : "";
  console.log("backend " + chosen.name + passed + ", fit loss " + l[0].toFixed(3) + " -> " + l[l.length - 1].toFixed(3));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
' 2>&1)" || { printf '%s\n' "$verify_out" | tail -n 30 >&2; rm -f -- "$BUILT_BINDING"; die "verification failed (the cached addon was dropped; the next run rebuilds it)"; }
log "verify: ok ($(printf '%s\n' "$verify_out" | tail -n 1))"
log "done in $((SECONDS - started))s: @tensorflow/tfjs-node@$TFJS_NODE_VERSION on libtensorflow $TF_WHEEL_VERSION (tensorflow-cpu wheel)"
