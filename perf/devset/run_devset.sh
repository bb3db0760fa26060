#!/usr/bin/env bash
# OCR the dev set with docrt and with Tesseract 5.3, score both with the dev
# set's own scorer, and print them side by side (CER / WER / BoW-WER, seconds
# per page).
#
#   perf/devset/run_devset.sh [--engines docrt,tesseract] [--out DIR]
#
# Environment (all optional):
#   DEVSET         the dev set (default: ../shared/data/devset beside the repo)
#   DOCRT_EXE      the docrt executable (default: build/docrt in the repo)
#   MODEL_DIR      docrt --model-dir (default: weights/ in the repo)
#   DOCRT_THREADS  docrt --threads (default 1, to match OMP_THREAD_LIMIT=1)
#   DOCRT_ARGS     extra docrt ocr arguments (e.g. --angle-cls)
#   TESSERACT      the tesseract executable (default: tesseract)
#   OUT            output folder (default: ${TMPDIR:-/tmp}/docrt_devset)
#
# Timing: every image is a separate process for both engines, so a docrt
# time includes its model load (Tesseract's includes loading eng.traineddata).
# docrt is also run once over all images (one model load) to give its batch
# seconds per page. Scores use `eval_cer.py --ignore-case` (small caps in the
# old books' GT are title case).
#
# Files under OUT: <engine>/<stem>.txt, <engine>/<stem>.err, times_<engine>.tsv
# (file, pages, seconds, exit), score_<engine>.tsv/.txt, batch_docrt.tsv and
# table.txt (what is printed at the end).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
devset=${DEVSET:-$repo/../shared/data/devset}
docrt=${DOCRT_EXE:-$repo/build/docrt}
model_dir=${MODEL_DIR:-$repo/weights}
threads=${DOCRT_THREADS:-1}
tess=${TESSERACT:-tesseract}
out=${OUT:-${TMPDIR:-/tmp}/docrt_devset}
engines=docrt,tesseract
py=/usr/bin/python3

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --engines) engines=${2:?--engines needs a value}; shift 2 ;;
        --engines=*) engines=${1#*=}; shift ;;
        --out) out=${2:?--out needs a value}; shift 2 ;;
        --out=*) out=${1#*=}; shift ;;
        -h|--help) usage 0 ;;
        *) echo "run_devset.sh: unknown argument '$1'" >&2; usage 2 ;;
    esac
done

if [ ! -f "$devset/eval_cer.py" ] || [ ! -d "$devset/images" ]; then
    echo "run_devset.sh: no dev set at $devset (set DEVSET)" >&2
    exit 2
fi
devset=$(cd "$devset" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

run_docrt=0 run_tess=0
IFS=, read -ra list <<<"$engines"
for e in "${list[@]}"; do
    case $e in
        docrt) run_docrt=1 ;;
        tesseract) run_tess=1 ;;
        *) echo "run_devset.sh: unknown engine '$e'" >&2; exit 2 ;;
    esac
done
if [ $run_docrt = 1 ] && [ ! -x "$docrt" ]; then
    echo "run_devset.sh: no docrt at $docrt (set DOCRT_EXE)" >&2; exit 2
fi
if [ $run_tess = 1 ] && ! command -v "$tess" >/dev/null; then
    echo "run_devset.sh: no $tess on PATH (set TESSERACT)" >&2; exit 2
fi

images=()
for f in "$devset"/images/*; do
    [ -f "$f" ] && images+=("$f")
done

pages_of() {
    case $1 in
        *.tif|*.tiff|*.TIF|*.TIFF) tiffinfo "$1" 2>/dev/null | grep -c '^TIFF Directory' ;;
        *) echo 1 ;;
    esac
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# $1 engine, then a function that OCRs one image: fn IMG STEM DIR
time_each() {
    local engine=$1 fn=$2 dir=$out/$1 t0 t1 rc img stem
    rm -rf "$dir"
    mkdir -p "$dir"
    printf 'file\tpages\tseconds\texit\n' >"$out/times_$engine.tsv"
    for img in "${images[@]}"; do
        stem=$(basename "$img")
        stem=${stem%.*}
        t0=$(now)
        rc=0
        "$fn" "$img" "$stem" "$dir" || rc=$?
        t1=$(now)
        printf '%s\t%s\t%s\t%s\n' "$stem" "$(pages_of "$img")" \
            "$(elapsed "$t0" "$t1")" "$rc" >>"$out/times_$engine.tsv"
        if [ "$rc" != 0 ]; then
            echo "run_devset.sh: $engine on $stem: exit $rc ($dir/$stem.err)" >&2
        fi
    done
}

tess_one() {
    OMP_THREAD_LIMIT=1 "$tess" "$1" "$3/$2" -l eng >/dev/null 2>"$3/$2.err"
}

# shellcheck disable=SC2086 # DOCRT_ARGS is a list of words
docrt_one() {
    "$docrt" ocr "$1" -o "$3" --format txt --model-dir "$model_dir" \
        --threads "$threads" ${DOCRT_ARGS:-} >/dev/null 2>"$3/$2.err"
}

score() {
    "$py" "$devset/eval_cer.py" "$out/$1" --ignore-case \
        --tsv "$out/score_$1.tsv" --json "$out/score_$1.json" >"$out/score_$1.txt"
}

if [ $run_tess = 1 ]; then
    echo "tesseract: $("$tess" --version 2>&1 | head -1), ${#images[@]} files -> $out/tesseract" >&2
    time_each tesseract tess_one
    score tesseract
fi

if [ $run_docrt = 1 ]; then
    echo "docrt: $docrt, --threads $threads, ${#images[@]} files -> $out/docrt" >&2
    time_each docrt docrt_one
    score docrt
    # One process over every image: seconds per page without a model load
    # per file. Its outputs go to a separate folder and are not scored.
    rm -rf "$out/docrt_batch"
    mkdir -p "$out/docrt_batch"
    t0=$(now)
    rc=0
    # shellcheck disable=SC2086
    "$docrt" ocr "${images[@]}" -o "$out/docrt_batch" --format txt --jobs 1 \
        --model-dir "$model_dir" --threads "$threads" ${DOCRT_ARGS:-} \
        >/dev/null 2>"$out/docrt_batch/stderr" || rc=$?
    t1=$(now)
    npages=0
    for img in "${images[@]}"; do npages=$((npages + $(pages_of "$img"))); done
    printf 'pages\tseconds\texit\n%s\t%s\t%s\n' "$npages" "$(elapsed "$t0" "$t1")" \
        "$rc" >"$out/batch_docrt.tsv"
fi

"$py" - "$out" <<'EOF' | tee "$out/table.txt"
import csv, os, sys
out = sys.argv[1]
engines = ('docrt', 'tesseract')

def load(path, key='file'):
    if not os.path.exists(path):
        return {}
    with open(path, encoding='utf-8') as f:
        return {r[key]: r for r in csv.DictReader(f, delimiter='\t')}

score = {e: load(os.path.join(out, 'score_%s.tsv' % e)) for e in engines}
times = {e: load(os.path.join(out, 'times_%s.tsv' % e)) for e in engines}
files = sorted(set(score['docrt']) | set(score['tesseract']))
if not files:
    sys.exit('nothing scored')

def pct(e, f, k):
    r = score[e].get(f)
    return '%6.2f' % (100 * float(r[k])) if r else '%6s' % '-'

def spp(e, f):
    r = times[e].get(f)
    if not r:
        return '%6s' % '-'
    s = '%6.2f' % (float(r['seconds']) / max(1, int(r['pages'])))
    return s + ('!' if r['exit'] != '0' else '')

w = max(len(f) for f in files + ['OVERALL (micro)'])
head = ('%-*s %5s | %6s %6s | %6s %6s | %6s %6s | %7s %7s'
        % (w, 'file', 'pages', 'CER%', '', 'WER%', '', 'BoW%', '', 's/page', ''))
sub = ('%-*s %5s | %6s %6s | %6s %6s | %6s %6s | %7s %7s'
       % (w, '', '', 'docrt', 'tess', 'docrt', 'tess', 'docrt', 'tess', 'docrt', 'tess'))
print(head)
print(sub)
print('-' * len(sub))
for f in files:
    pages = (times['docrt'].get(f) or times['tesseract'].get(f) or {}).get('pages', '?')
    print('%-*s %5s | %s %s | %s %s | %s %s | %7s %7s' % (
        w, f, pages, pct('docrt', f, 'cer'), pct('tesseract', f, 'cer'),
        pct('docrt', f, 'wer'), pct('tesseract', f, 'wer'),
        pct('docrt', f, 'bow_wer'), pct('tesseract', f, 'bow_wer'),
        spp('docrt', f), spp('tesseract', f)))
print('-' * len(sub))

def overall(e, kind):
    rows = list(score[e].values())
    if not rows:
        return ['%6s' % '-'] * 3
    if kind == 'micro':
        gc = sum(int(r['gt_chars']) for r in rows)
        gw = sum(int(r['gt_words']) for r in rows)
        vals = (sum(int(r['char_edits']) for r in rows) / gc,
                sum(int(r['word_edits']) for r in rows) / gw,
                sum(int(r['bow_word_errors']) for r in rows) / gw)
    else:
        vals = tuple(sum(float(r[k]) for r in rows) / len(rows)
                     for k in ('cer', 'wer', 'bow_wer'))
    return ['%6.2f' % (100 * v) for v in vals]

def total_spp(e):
    rows = list(times[e].values())
    if not rows:
        return '-'
    return '%.2f' % (sum(float(r['seconds']) for r in rows) /
                     max(1, sum(int(r['pages']) for r in rows)))

for kind in ('micro', 'macro'):
    d, t = overall('docrt', kind), overall('tesseract', kind)
    label = 'OVERALL (%s)' % kind
    tail = ('%7s %7s' % (total_spp('docrt'), total_spp('tesseract'))
            if kind == 'micro' else '')
    print('%-*s %5s | %s %s | %s %s | %s %s | %s' % (
        w, label, '', d[0], t[0], d[1], t[1], d[2], t[2], tail))
batch = load(os.path.join(out, 'batch_docrt.tsv'), key='pages')
for pages, r in batch.items():
    print('docrt, one process over all %s pages: %.2f s/page (%.1f s, exit %s)' % (
        pages, float(r['seconds']) / max(1, int(pages)), float(r['seconds']), r['exit']))
print('scores: eval_cer.py --ignore-case; s/page: wall time per file / pages, one '
      'process per file (docrt incl. model load); "!" = non-zero exit')
EOF
