#!/usr/bin/env bash
# End to end: pages/s and seconds per page, with CER beside, for docrt, the
# PyTorch pipeline (perf/torch/pipeline.py, the same ONNX graphs) and
# Tesseract 5.3, one thread each, on the same pages:
#   devset  the dev set (../shared/data/devset, 16 real scanned pages; its
#           scores use --ignore-case: small caps in the GT are title case)
#   gen200  200 generated pages of known text (perf/data/make_pages.py,
#           seed 2; varied sizes, fonts and type sizes)
#
#   perf/bench_e2e.sh [--sets devset,gen200] [--engines LIST] [--out DIR]
#
# LIST (default docrt,docrt-f32,torch,tesseract): docrt is the default
# precision (auto), docrt-f32 forces f32. docrt and the PyTorch pipeline run
# one process over the whole set (one model load); Tesseract has no batch
# mode that keeps pages apart, so it runs once per file (its model load,
# about 0.1 s, is inside its time). OMP_NUM_THREADS=1 and OMP_THREAD_LIMIT=1
# for all. Writes OUT (default perf/results/e2e): <set>/<engine>/*.txt,
# score and time files, and e2e.json / e2e.md (the table).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sets=devset,gen200 engines=docrt,docrt-f32,torch,tesseract
out=$root/perf/results/e2e
while (($#)); do
    case $1 in
    --sets) sets=$2; shift 2 ;;
    --engines) engines=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) sed -n '2,19p' "$0" >&2; exit 2 ;;
    esac
done
exe=${DOCRT_EXE:-$root/build/docrt}
devset=${DEVSET:-$root/../shared/data/devset}
py=/usr/bin/python3
export OMP_NUM_THREADS=1 OMP_THREAD_LIMIT=1
mkdir -p "$out"
out=$(cd "$out" && pwd)
scorer=$devset/eval_cer.py
[[ -f $scorer ]] || { echo "bench_e2e: eval_cer.py not found (set DEVSET)" >&2; exit 2; }

now() { date +%s.%N; }

for set in ${sets//,/ }; do
    case $set in
    devset)
        imgdir=$devset/images gtdir=$devset/gt case_opt=--ignore-case ;;
    gen200)
        gen=${TMPDIR:-/tmp}/docrt_gen200
        [[ -s $gen/list.txt ]] || $py "$root/perf/data/make_pages.py" \
            --count 200 --seed 2 --out "$gen"
        imgdir=$gen gtdir=$gen/gt case_opt= ;;
    *) echo "bench_e2e: unknown set $set" >&2; exit 2 ;;
    esac
    mapfile -t imgs < <(find "$imgdir" -maxdepth 1 -type f \
        \( -name '*.png' -o -name '*.tif' -o -name '*.jpg' \) | sort)
    for e in ${engines//,/ }; do
        d=$out/$set/$e
        rm -rf "$d"
        mkdir -p "$d"
        echo "bench_e2e: $set: $e (${#imgs[@]} files)" >&2
        t0=$(now)
        rc=0
        case $e in
        docrt) "$exe" ocr "${imgs[@]}" -o "$d" -f txt --jobs 1 --threads 1 -q \
            2>"$d.stderr" || rc=$? ;;
        docrt-f32) "$exe" ocr "${imgs[@]}" -o "$d" -f txt --jobs 1 --threads 1 \
            --precision f32 -q 2>"$d.stderr" || rc=$? ;;
        torch) $py "$root/perf/torch/pipeline.py" "${imgs[@]}" -o "$d" \
            --threads 1 2>"$d.stderr" || rc=$? ;;
        tesseract)
            for f in "${imgs[@]}"; do
                s=$(basename "${f%.*}")
                tesseract "$f" "$d/$s" -l eng >/dev/null 2>>"$d.stderr" || rc=$?
            done ;;
        *) echo "bench_e2e: unknown engine $e" >&2; exit 2 ;;
        esac
        t1=$(now)
        pages=0
        for f in "${imgs[@]}"; do
            case $f in
            *.tif) pages=$((pages + $(tiffinfo "$f" 2>/dev/null | grep -c '^TIFF Directory'))) ;;
            *) pages=$((pages + 1)) ;;
            esac
        done
        # shellcheck disable=SC2086 # case_opt is empty or one word
        $py "$scorer" "$d" --gt "$gtdir" $case_opt --json "$d.score.json" >/dev/null
        awk -v a="$t0" -v b="$t1" -v p="$pages" -v rc="$rc" \
            'BEGIN { printf "{\"seconds\": %.3f, \"pages\": %d, \"exit\": %d}\n", b - a, p, rc }' \
            >"$d.time.json"
    done
done

$py - "$out" "$sets" "$engines" <<'EOF'
import json, os, sys
out, sets, engines = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
names = {"docrt": "docrt (auto: det f32, rec bf16)", "docrt-f32": "docrt --precision f32",
         "torch": "PyTorch 1.13.1 pipeline (same ONNX graphs)",
         "tesseract": "Tesseract 5.3 (eng, LSTM)"}
res, lines = {}, []
for s in sets:
    lines += [f"**{s}**", "", "| system | pages | seconds | s/page | pages/s | CER % | WER % |",
              "|---|---|---|---|---|---|---|"]
    for e in engines:
        base = os.path.join(out, s, e)
        if not os.path.exists(base + ".time.json"):
            continue
        t = json.load(open(base + ".time.json"))
        sc = json.load(open(base + ".score.json"))
        ov = sc["overall"]
        cer, wer = float(ov["cer_micro"]) * 100, float(ov["wer_micro"]) * 100
        spp = t["seconds"] / max(1, t["pages"])
        res.setdefault(s, {})[e] = dict(t, s_per_page=round(spp, 3), cer=round(cer, 2),
                                        wer=round(wer, 2))
        lines.append(f"| {names.get(e, e)} | {t['pages']} | {t['seconds']:.1f} | {spp:.2f} | "
                     f"{1 / spp:.2f} | {cer:.2f} | {wer:.2f} |")
    lines.append("")
json.dump(res, open(os.path.join(out, "e2e.json"), "w"), indent=1)
open(os.path.join(out, "e2e.md"), "w").write("\n".join(lines))
print("\n".join(lines))
EOF
