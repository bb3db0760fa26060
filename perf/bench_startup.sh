#!/usr/bin/env bash
# Start-up: time from process start to the first result (one page OCR'd and
# written, process exited), and the model load/compile time inside it, for
# docrt, the PyTorch pipeline and Tesseract, one thread each, on the same
# page (the README's sample page, 1240x1754, rendered by
# tests/make_sample_input.py). Runs are interleaved, 5 rounds; medians.
#
#   perf/bench_startup.sh [--rounds N] [--out DIR]
#
# docrt's compile time is what `docrt ocr --timing` reports: loading both
# ONNX files and compiling every detector and recognizer bucket. The PyTorch
# pipeline's is the ONNX-to-torch translation (perf/torch/onnx_torch.py);
# PyTorch creates its oneDNN primitives on the first run of each shape, so
# that cost is inside its first page. Writes OUT/startup.json and .md
# (default perf/results/startup).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=5 out=$root/perf/results/startup
while (($#)); do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) sed -n '2,16p' "$0" >&2; exit 2 ;;
    esac
done
exe=${DOCRT_EXE:-$root/build/docrt}
py=/usr/bin/python3
export OMP_NUM_THREADS=1 OMP_THREAD_LIMIT=1
mkdir -p "$out"
out=$(cd "$out" && pwd)
page=$root/tests/data/gen/sample_page.png
[[ -f $page ]] || $py "$root/tests/make_sample_input.py" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
: >"$tmp/rows.tsv"
for ((r = 1; r <= rounds; r++)); do
    for sys in docrt torch tesseract; do
        rm -rf "$tmp/o"
        mkdir -p "$tmp/o"
        t0=$(now)
        case $sys in
        docrt) "$exe" ocr "$page" -o "$tmp/o" -f txt --threads 1 --timing \
            2>"$tmp/err" >/dev/null
            c=$(sed -n 's/.* in \([0-9]*\) ms (load.*/\1/p' "$tmp/err") ;;
        torch) $py "$root/perf/torch/pipeline.py" "$page" -o "$tmp/o" \
            --threads 1 2>"$tmp/err"
            c=$(sed -n 's/.*models loaded in \([0-9]*\) ms.*/\1/p' "$tmp/err") ;;
        tesseract) tesseract "$page" "$tmp/o/page" -l eng >/dev/null 2>&1
            c= ;;
        esac
        t1=$(now)
        awk -v s="$sys" -v a="$t0" -v b="$t1" -v c="${c:-}" \
            'BEGIN { printf "%s\t%.3f\t%s\n", s, b - a, c }' >>"$tmp/rows.tsv"
    done
done
$py - "$tmp/rows.tsv" "$out" "$rounds" <<'PY'
import json, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
out, rounds = sys.argv[2], int(sys.argv[3])
res, lines = {}, ["| system | first result (s, median) | model load + compile (ms, median) |",
                  "|---|---|---|"]
names = {"docrt": "docrt (load + compile all 8 det and 8 rec buckets)",
         "torch": "PyTorch pipeline (ONNX -> torch translation)",
         "tesseract": "Tesseract 5.3"}
for s in ("docrt", "torch", "tesseract"):
    w = [float(r[1]) for r in rows if r[0] == s]
    c = [float(r[2]) for r in rows if r[0] == s and r[2]]
    res[s] = {"first_result_s": round(statistics.median(w), 3), "runs": w,
              "compile_ms": round(statistics.median(c)) if c else None}
    lines.append(f"| {names[s]} | {statistics.median(w):.2f} | "
                 f"{statistics.median(c):.0f} |" if c else
                 f"| {names[s]} | {statistics.median(w):.2f} | - |")
json.dump(res, open(out + "/startup.json", "w"), indent=1)
open(out + "/startup.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
