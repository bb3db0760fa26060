#!/usr/bin/env bash
# Install docrt's build, test and fetch dependencies on Debian 12 (bookworm).
# Run as root: sudo .ci/deps.sh. Only missing packages are installed; when
# nothing is missing, apt is not touched at all.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libdnnl-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata
    check
    libtiff-dev libpng-dev libjpeg-dev libjansson-dev libxml2-dev libmicrohttpd-dev
    wamerican
    python3 python3-numpy python3-opencv python3-torch python3-torchvision python3-pyclipper
    imagemagick fonts-dejavu-core fonts-liberation2 libtiff-tools libxml2-utils
    cppcheck clang clang-tidy libclang-rt-14-dev
)
# Node may come from elsewhere (NodeSource bundles npm); Debian's npm package
# conflicts with such a nodejs, so only ask for them when npm is missing.
if ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo ".ci/deps.sh: all packages present"
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo ".ci/deps.sh: missing packages: ${missing[*]}" >&2
    echo ".ci/deps.sh: run as root (sudo .ci/deps.sh) to install them" >&2
    exit 1
fi
echo ".ci/deps.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
