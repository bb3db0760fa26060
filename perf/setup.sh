#!/usr/bin/env bash
# Installs what perf/ needs beyond docrt's own build (.ci/deps.sh) on Debian
# 12, as root: the PyTorch baseline (python3-torch 1.13.1, built with oneDNN
# 2.6.3; python3-pyclipper; python3-pil for the generated pages), OpenBLAS
# (Debian's torch links the generic libblas.so.3; with the reference BLAS
# some of its convolutions run 10x slower, so the baseline gets OpenBLAS as
# any PyTorch user on Debian has), Tesseract 5.3 with English, gnuplot for
# the RSS plot, wrk for the server load test, and ONNX Runtime 1.30 from npm
# (tests/ort/setup.sh). Only missing packages are installed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
packages=(python3-torch python3-pyclipper python3-pil python3-opencv python3-onnx
          python3-numpy libopenblas0-openmp tesseract-ocr tesseract-ocr-eng
          gnuplot-nox libtiff-tools)
missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "perf/setup.sh: missing: ${missing[*]} (run as root)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi
"$root/tests/ort/setup.sh"
echo "perf/setup.sh: ready (torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $(tesseract --version 2>&1 | head -1))"
