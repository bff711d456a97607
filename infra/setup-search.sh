#!/usr/bin/env bash
# Creates the search venv, .stack/search-venv, and installs search/optuna/requirements.txt from PyPI:
# Optuna (TPE suggestions), temporalio (the suggestTrials worker), scikit-learn and Pillow (the
# digits benchmark data), every dependency at the version in constraints.txt. Idempotent: when the
# venv already has exactly the pinned versions (both files) it only checks them (about a second).
# Needs python3 (3.11+: the pinned numpy and scipy) with the venv module.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

VENV="$STACK_DIR/search-venv"
REQUIREMENTS="$REPO_ROOT/search/optuna/requirements.txt"
# Every dependency's version, so a fresh venv is the one that was tested.
CONSTRAINTS="$REPO_ROOT/search/optuna/constraints.txt"

die() { printf '[setup-search] ERROR: %s\n' "$*" >&2; exit 1; }

PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3.11+ with the venv module (or set PYTHON)"
mkdir -p "$STACK_DIR"
# A venv cut off while being made has python but no pip: make it again rather than fail on every run.
if [[ ! -x "$VENV/bin/python" || ! -x "$VENV/bin/pip" ]]; then
  "$PYTHON" -m venv --clear "$VENV" || die "$PYTHON -m venv $VENV failed (on Debian: apt-get install python3-venv)"
fi
# Asking the venv's metadata is quicker than a pip run when every pin is already installed.
pins_satisfied() {
  "$VENV/bin/python" - "$REQUIREMENTS" "$CONSTRAINTS" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
missing = []
for line in (line for file in sys.argv[1:] for line in open(file)):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, pinned = line.split("==")
    try:
        if version(name) != pinned:
            missing.append(line)
    except PackageNotFoundError:
        missing.append(line)
sys.exit(1 if missing else 0)
PY
}
if ! pins_satisfied; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS" -c "$CONSTRAINTS" || die "pip install -r $REQUIREMENTS failed"
fi
"$VENV/bin/python" -c 'import optuna, temporalio, sklearn, PIL' || die "the search venv does not import optuna, temporalio, sklearn, PIL"
printf '[setup-search] %s ready: %s\n' "$VENV" "$(sed -n 's/#.*//; /==/p' "$REQUIREMENTS" | paste -sd' ')"
