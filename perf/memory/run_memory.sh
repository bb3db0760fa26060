#!/usr/bin/env bash
# Memory over time, the motivating case: RSS after every page over N pages of
# varied size (default 2000), for docrt and for the PyTorch pipeline
# (perf/torch/pipeline.py: the same ONNX graphs run by PyTorch eager ops)
# with PyTorch's defaults and with the mitigations users are told to apply
# (ONEDNN_PRIMITIVE_CACHE_CAPACITY=1 LRU_CACHE_CAPACITY=1, one process).
#
#   perf/memory/run_memory.sh [--pages N] [--out DIR] [--systems LIST]
#                             [--sequential] [--max-width W]
#
# LIST: comma-separated, of docrt, torch, torch-mitigated (default: all),
# and the docTR pair: docrt-doctr (docrt with the ONNX files in
# $DOCTR_MODELS: db_mobilenet_v3_large and crnn_mobilenet_v3_small) and
# torch-doctr (perf/doctr/doctr_pipeline.py: docTR's predictor in PyTorch,
# detector weights $DOCTR_DET_CKPT); perf/doctr/run.sh sets those up.
# Every system gets the same pages (perf/data/make_pages.py, seed 1), one
# thread, one page at a time. The runs go at the same time (RSS does not
# depend on CPU share), or one after another with --sequential, which
# makes their pages/s comparable (time_<system>.txt: wall seconds).
# Writes under OUT (default perf/results/memory): rss_<system>.tsv (page,
# rss_mib), summary.json, table.md and rss.png (gnuplot, Debian gnuplot-nox).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pages=2000 out=$root/perf/results/memory systems=docrt,torch,torch-mitigated seq=0 maxw=960
while (($#)); do
    case $1 in
    --pages) pages=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --sequential) seq=1; shift ;;
    --max-width) maxw=$2; shift 2 ;;
    *) sed -n '2,22p' "$0" >&2; exit 2 ;;
    esac
done
exe=${DOCRT_EXE:-$root/build/docrt}
py=/usr/bin/python3
[[ -x $exe ]] || { echo "run_memory: build docrt first ($exe)" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "run_memory: apt-get install gnuplot-nox" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Pages 480 to 960 px wide (scans at 60 to 120 dpi): every one a new shape
# for a pipeline without buckets, and cheap enough that the PyTorch runs of
# 2,000 pages take about an hour on this 2-core machine.
data=${PAGES_DIR:-${TMPDIR:-/tmp}/docrt_mem_pages_${pages}_$maxw}
if [[ ! -s $data/list.txt ]]; then
    $py "$root/perf/data/make_pages.py" --count "$pages" --out "$data" \
        --min-width 480 --max-width "$maxw"
fi

run_docrt() { # $1: system name, then docrt ocr options
    local name=$1
    shift
    local o=$out/${name}_out
    rm -rf "$o"
    local t0=$SECONDS
    "$exe" ocr --files-from "$data/list.txt" -o "$o" --jobs 1 --threads 1 \
        -f txt -q "$@" 2>"$out/$name.stderr" &
    local pid=$! last=-1 total
    total=$(grep -c . "$data/list.txt")
    echo -e "page\trss_mib" >"$out/rss_$name.tsv"
    # One sample per finished page: the journal has a line per page.
    while kill -0 "$pid" 2>/dev/null; do
        local n rss
        n=$(grep -c '"page"' "$o/.docrt/journal" 2>/dev/null || true)
        n=${n:-0}
        rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        # (the last page's sample would be taken while docrt tears down)
        if [[ -n $rss && $n -gt $last && $n -lt $total ]]; then
            echo -e "$n\t$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')" >>"$out/rss_$name.tsv"
            last=$n
        fi
        sleep 0.2
    done
    wait "$pid"
    echo $((SECONDS - t0)) >"$out/time_$name.txt"
}

run_torch() { # $1: system name, $2: script, then env assignments
    local name=$1 script=$2
    shift 2
    local t0=$SECONDS
    env "$@" $py "$script" --list "$data/list.txt" \
        -o "$out/${name}_out" --threads 1 --rss-log "$out/${name}.log" \
        ${extra_args:-} 2>"$out/$name.stderr"
    echo $((SECONDS - t0)) >"$out/time_$name.txt"
    { echo -e "page\trss_mib"; awk -F'\t' '{print $1 "\t" $3}' "$out/${name}.log"; } \
        >"$out/rss_$name.tsv"
}

pids=()
IFS=, read -ra sys <<<"$systems"
for s in "${sys[@]}"; do
    case $s in
    docrt) run_docrt docrt & ;;
    torch) run_torch torch "$root/perf/torch/pipeline.py" OMP_NUM_THREADS=1 & ;;
    torch-mitigated) run_torch torch-mitigated "$root/perf/torch/pipeline.py" OMP_NUM_THREADS=1 \
        ONEDNN_PRIMITIVE_CACHE_CAPACITY=1 LRU_CACHE_CAPACITY=1 & ;;
    docrt-doctr) run_docrt docrt-doctr --det-model "$DOCTR_MODELS/db_mobilenet_v3_large.onnx" \
        --rec-model "$DOCTR_MODELS/crnn_mobilenet_v3_small.onnx" & ;;
    torch-doctr) extra_args="--det-checkpoint $DOCTR_DET_CKPT${DOCTR_REC_CKPT:+ --rec-checkpoint $DOCTR_REC_CKPT}" \
        run_torch torch-doctr "$root/perf/doctr/doctr_pipeline.py" OMP_NUM_THREADS=1 & ;;
    *) echo "run_memory: unknown system $s" >&2; exit 2 ;;
    esac
    pids+=($!)
    if ((seq)); then wait "${pids[-1]}" || rc_seq=1; fi
done
rc=${rc_seq:-0}
((seq)) || for p in "${pids[@]}"; do wait "$p" || rc=1; done

$py "$root/perf/memory/summarize.py" "$out" "$pages" "${sys[@]}"
exit $rc
