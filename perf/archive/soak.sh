#!/usr/bin/env bash
# Archive soak: OCR a large tree of varied pages with `docrt ocr DIR --jobs J`
# and sample the process's RSS every second, to show memory stays flat.
#
#   perf/archive/soak.sh [--pages N] [--jobs J] [--out DIR]
#
# The tree is built from the dev set's images (if present: DEVSET, default
# ../shared/data/devset) and the synthetic pages of tests/pages/make_pages.py,
# copied round-robin under nested folders, in their own formats (G4/LZW TIFF,
# PNG, JPEG), until it holds N pages (default 5000). Writes under OUT
# (default ${TMPDIR:-/tmp}/docrt_soak): rss.tsv (seconds, rss_kb, pages
# done), summary.txt (pages/s, peak RSS, RSS after the first 100 pages and
# the largest deviation from it) and rss.png (RSS over pages, drawn with
# OpenCV). Not a CI test: 5,000 pages take hours on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pages=5000 jobs=2 out=${TMPDIR:-/tmp}/docrt_soak
while (($#)); do
    case $1 in
    --pages) pages=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--pages N] [--jobs J] [--out DIR]" >&2; exit 2 ;;
    esac
done
exe=${DOCRT_EXE:-$root/build/docrt}
devset=${DEVSET:-$root/../shared/data/devset}
[[ -x $exe ]] || { echo "soak: build docrt first ($exe)" >&2; exit 2; }

tree=$out/tree
rm -rf "$out"
mkdir -p "$tree" "$out/gen"
/usr/bin/python3 "$root/tests/pages/make_pages.py" "$out/gen" >/dev/null
srcs=()
for f in "$out"/gen/*.png "$out"/gen/*.jpg "$out"/gen/*.tif "$devset"/images/*; do
    [[ -f $f ]] && srcs+=("$f")
done
pages_of() { case $1 in *.tif|*.tiff) tiffinfo "$1" 2>/dev/null | grep -c '^TIFF Directory' ;; *) echo 1 ;; esac; }
declare -A npages
for f in "${srcs[@]}"; do npages[$f]=$(pages_of "$f"); done
n=0 i=0
while ((n < pages)); do
    f=${srcs[$((i % ${#srcs[@]}))]}
    d=$tree/box$((i / 500))/reel$(((i / 50) % 10))
    mkdir -p "$d"
    ln -f "$f" "$d/p$(printf %05d "$i")_$(basename "$f")" 2>/dev/null ||
        cp "$f" "$d/p$(printf %05d "$i")_$(basename "$f")"
    n=$((n + ${npages[$f]})) i=$((i + 1))
done
echo "soak: $i files, $n pages under $tree"

start=$(date +%s.%N)
"$exe" ocr "$tree" -o "$out/ocr" --jobs "$jobs" --quiet --no-resume \
    --model-dir "$root/weights" --jsonl "$out/pages.jsonl" 2>"$out/stderr.txt" &
pid=$!
echo -e "seconds\trss_kb\tpages_done" >"$out/rss.tsv"
while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    done_pages=$( (wc -l <"$out/pages.jsonl") 2>/dev/null || echo 0)
    now=$(date +%s.%N)
    echo -e "$(awk -v a="$now" -v b="$start" 'BEGIN {printf "%.1f", a - b}')\t${rss:-0}\t$done_pages" >>"$out/rss.tsv"
    sleep 1
done
rc=0
wait "$pid" || rc=$?
/usr/bin/python3 - "$out" "$jobs" "$rc" <<'PY'
import sys, csv
import numpy as np, cv2
out, jobs, rc = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [(float(r["seconds"]), int(r["rss_kb"]), int(r["pages_done"]))
        for r in csv.DictReader(open(f"{out}/rss.tsv"), delimiter="\t") if int(r["rss_kb"]) > 0]
t = np.array([r[0] for r in rows]); rss = np.array([r[1] for r in rows]) / 1024; pg = np.array([r[2] for r in rows])
wall = t[-1] if len(t) else 0
try:
    done = sum(1 for _ in open(f"{out}/pages.jsonl"))
except OSError:
    done = pg.max() if len(pg) else 0
# steady state: from page 100 on, while pages are still being read (the
# samples after the last page show the model being freed at exit)
running = pg < (pg.max() if len(pg) else 0)
after = rss[(pg >= 100) & running]
base = after[0] if len(after) else float("nan")
dev = (np.abs(after - base).max() / base * 100) if len(after) else float("nan")
# growth and dips apart: a dip is memory handed back (a large page freed),
# growth would be a leak or a cache filling up
up = ((after.max() - base) / base * 100) if len(after) else float("nan")
down = ((base - after.min()) / base * 100) if len(after) else float("nan")
within = (np.abs(after - base) <= 0.05 * base).mean() * 100 if len(after) else float("nan")
lines = [f"jobs {jobs}, exit {rc}", f"pages {done}, wall {wall:.0f} s, {done / max(wall, 1e-9):.3f} pages/s",
         f"peak RSS {rss.max():.0f} MB, RSS after 100 pages {base:.0f} MB, largest deviation after that {dev:.1f} %",
         f"after page 100: highest +{up:.1f} %, lowest -{down:.1f} %, {within:.1f} % of samples within 5 %"]
open(f"{out}/summary.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
# plot: RSS (MB) over pages done
W, H, m = 900, 420, 60
img = np.full((H, W, 3), 255, np.uint8)
if len(pg) > 1:
    x0, x1 = 0, max(1, pg.max()); y0, y1 = 0, rss.max() * 1.1
    pts = np.stack([m + (pg - x0) / (x1 - x0) * (W - 2 * m), H - m - (rss - y0) / (y1 - y0) * (H - 2 * m)], 1).astype(np.int32)
    cv2.polylines(img, [pts], False, (200, 60, 20), 2)
    cv2.rectangle(img, (m, m), (W - m, H - m), (0, 0, 0), 1)
    cv2.putText(img, f"RSS (MB, max {y1 / 1.1:.0f}) over pages (0..{x1}), --jobs {jobs}", (m, m - 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1)
cv2.imwrite(f"{out}/rss.png", img)
PY
