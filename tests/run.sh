#!/usr/bin/env bash
# Configure, build and run every test: Release, warnings as errors.
#   tests/run.sh                  build/ with -j2
#   BUILD_DIR=b JOBS=1 CTEST_ARGS="-LE slow" tests/run.sh [extra cmake args]
# Needs the packages of .ci/deps.sh and the files of weights/fetch.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-build}
jobs=${JOBS:-2}
cd "$root"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DDOCRT_WERROR=ON "$@"
cmake --build "$build" -j"$jobs"
read -ra ctest_args <<<"${CTEST_ARGS:-}"
ctest --test-dir "$build" --output-on-failure "${ctest_args[@]}"
