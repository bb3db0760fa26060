#!/usr/bin/env bash
# Build docrt's fuzz targets with clang and run them.
#   tests/fuzz/run.sh [-t SECONDS] [-j JOBS] [TARGET...]
# TARGET: image npy onnx http (default: all four), each run for SECONDS
# (default 60), JOBS targets at a time (default 2). Builds build-fuzz/
# (BUILD_DIR overrides), writes the seed corpora (make_seeds.py) and keeps
# each target's growing corpus in build-fuzz/corpus/TARGET, so a later run
# goes on from there. Crashing inputs go to build-fuzz/artifacts/; the
# script prints one line per target (executions, seconds, coverage) and
# exits 1 when any target found a crash, a leak, a hang or ran out of
# memory. Needs clang and libclang-rt-14-dev (.ci/deps.sh installs them).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=60 jobs=2
while getopts "t:j:" o; do
    case $o in
    t) secs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
((${#targets[@]})) || targets=(image npy onnx http)

build=${BUILD_DIR:-$root/build-fuzz}
CC=clang cmake -S "$root" -B "$build" -DDOCRT_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" >/dev/null
/usr/bin/python3 "$root/tests/fuzz/make_seeds.py" "$build/seeds" >/dev/null
mkdir -p "$build/artifacts" "$build/logs"

run_one() {
    local t=$1 corpus=$build/corpus/$1
    mkdir -p "$corpus"
    local regress=()
    [[ -d $root/tests/fuzz/regress/$t ]] && regress=("$root/tests/fuzz/regress/$t")
    # -timeout: one input may take 20 s at most (the decoders stop at 2 s);
    # -rss_limit_mb: a model or page that needs more is a bug here.
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=20 \
        -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$t-" \
        "$corpus" "$build/seeds/$t" "${regress[@]}" \
        >"$build/logs/$t.log" 2>&1
}

pids=() names=()
fail=0
for t in "${targets[@]}"; do
    [[ -x $build/tests/fuzz/fuzz_$t ]] || { echo "no fuzz target '$t'" >&2; exit 2; }
    run_one "$t" &
    pids+=($!) names+=("$t")
    if ((${#pids[@]} >= jobs)); then
        wait "${pids[0]}" || fail=1
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done

for t in "${names[@]}"; do
    log=$build/logs/$t.log
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if grep -qE '^==[0-9]+==ERROR|runtime error:|^SUMMARY: |ALARM: working on the last Unit' "$log"; then
        echo "fuzz_$t: FAILED after ${runs:-?} executions; see $log"
        grep -m3 -E 'ERROR|runtime error:|SUMMARY:|ALARM' "$log" | sed 's/^/    /'
        fail=1
    else
        echo "fuzz_$t: ${runs:-?} executions in ${took:-?} s, ${cov:-cov: ?}, corpus $(ls "$build/corpus/$t" | wc -l) files, no crash"
    fi
done
exit $fail
