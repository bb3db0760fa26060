#!/bin/sh
# Installs onnxruntime-node (pinned in package.json) into tests/ort/node_modules.
# --ignore-scripts: the package's install script only fetches optional GPU
# binaries; the CPU library for linux/x64 ships inside the package itself.
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/onnxruntime-node ]; then
    npm install --ignore-scripts --no-audit --no-fund
fi
lib=node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
if [ ! -e "$lib" ]; then
    echo "setup.sh: $lib missing after npm install" >&2
    exit 1
fi
echo "setup.sh: onnxruntime-node $(node -p "require('./node_modules/onnxruntime-node/package.json').version") ready"
