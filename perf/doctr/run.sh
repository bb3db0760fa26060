#!/usr/bin/env bash
# The docTR benchmark, the motivating case exactly: docTR's architecture
# (db_mobilenet_v3_large + crnn_mobilenet_v3_small) as a docTR user runs it
# (PyTorch 1.13.1 eager, docTR's predictor: perf/doctr/doctr_pipeline.py)
# against the same weights exported to ONNX and run by docrt, over the same
# N varied pages (default 500), one thread, one page at a time, one system
# after the other: RSS after every page on one plot, pages/s, growth in MiB
# per 100 pages.
#
#   perf/doctr/run.sh [--pages N] [--out DIR] [--det-checkpoint DET.pt]
#                     [--rec-checkpoint REC.pt]
#
# Weights: no docTR checkpoint can be downloaded here, so the detector gets
# a few minutes of training on synthetic pages
# (perf/doctr/train_synthetic_det.py, cached in $TMPDIR/docrt_doctr) so
# that it finds words and the recognizer has crops to read; the recognizer
# keeps seeded random weights (its words are noise; the work per crop is
# the same). --det-checkpoint / --rec-checkpoint take docTR state_dicts
# (db_mobilenet_v3_large, crnn_mobilenet_v3_small) instead: a user's trained
# models. Both systems use the same files. Writes OUT (default
# perf/results/doctr): rss_*.tsv, summary.json, table.md, rss.png.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pages=500 out=$root/perf/results/doctr det_ckpt= rec_ckpt=
while (($#)); do
    case $1 in
    --pages) pages=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --det-checkpoint) det_ckpt=$2; shift 2 ;;
    --rec-checkpoint) rec_ckpt=$2; shift 2 ;;
    *) sed -n '2,21p' "$0" >&2; exit 2 ;;
    esac
done
py=/usr/bin/python3
work=${TMPDIR:-/tmp}/docrt_doctr
mkdir -p "$work"
ckpt=${det_ckpt:-$work/det_synthetic.pt}
[[ -s $ckpt ]] || $py "$root/perf/doctr/train_synthetic_det.py" -o "$ckpt"
$py "$root/tools/doctr/export.py" db_mobilenet_v3_large -o "$work/models" --checkpoint "$ckpt"
$py "$root/tools/doctr/export.py" crnn_mobilenet_v3_small -o "$work/models" \
    ${rec_ckpt:+--checkpoint "$rec_ckpt"}
DOCTR_MODELS=$work/models DOCTR_DET_CKPT=$ckpt DOCTR_REC_CKPT=$rec_ckpt \
    "$root/perf/memory/run_memory.sh" --pages "$pages" --out "$out" \
    --systems torch-doctr,docrt-doctr --sequential --max-width 1700
