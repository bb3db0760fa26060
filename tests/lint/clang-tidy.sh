#!/usr/bin/env bash
# clang-tidy over every C file of src/ and graph/ (their headers and
# include/ come with them), with the checks of .clang-tidy; any finding
# fails. Needs clang-tidy (Debian clang-tidy, 14) and a compile database,
# made here in BUILD_DIR (default build-tidy).
#   tests/lint/clang-tidy.sh [JOBS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$root/build-tidy}
jobs=${1:-2}
runner=$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)
[[ -n $runner ]] || { echo "clang-tidy.sh: run-clang-tidy not found (apt-get install clang-tidy)" >&2; exit 2; }
cmake -S "$root" -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
# the generated ONNX protobuf header must exist before the sources parse
cmake --build "$build" --target onnx_proto >/dev/null
log=$build/clang-tidy.log
set +e
"$runner" -p "$build" -j "$jobs" -quiet "$root/(src|graph)/.*\.c$" >"$log" 2>&1
rc=$?
set -e
n=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -cE '^/.*:[0-9]+:[0-9]+: (warning|error):' || true)
if ((rc != 0 || n != 0)); then
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^/.*:[0-9]+:[0-9]+: (warning|error):' | sort -u >&2 || tail -20 "$log" >&2
    echo "clang-tidy: $n findings (full log: $log)" >&2
    exit 1
fi
echo "clang-tidy: $(ls "$root"/src/*.c "$root"/graph/*.c | wc -l) files, 0 findings"
