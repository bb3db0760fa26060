#!/usr/bin/env bash
# make_reference.sh OUTDIR - ONNX Runtime reference outputs for the real models.
#
#   OUTDIR/inputs/<case>.npy        inputs cut from a rendered page (make_inputs.py)
#   OUTDIR/<case>/ort/<output>.npy  ONNX Runtime's outputs for that input
#
# Cases: det_960x960 det_1280x960 (detector), rec_1x320 rec_8x640 (recogniser),
# cls_1x192 (direction classifier). Models come from weights/ (fetched with
# weights/fetch.sh when that is there) or from $DOCRT_WEIGHTS_DIR if set.
# Registered in CTest as `ort_reference` (fixture ort_ref) by tests/tests.cmake.
set -euo pipefail

die() { echo "make_reference.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: make_reference.sh OUTDIR"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
python=/usr/bin/python3
[[ -x $python ]] || python=python3

"$here/setup.sh"

if [[ -n ${DOCRT_WEIGHTS_DIR:-} ]]; then
    weights=$DOCRT_WEIGHTS_DIR
else
    weights=$root/weights
    if [[ -x $weights/fetch.sh ]]; then
        "$weights/fetch.sh"
    fi
fi

"$python" "$here/make_inputs.py" "$out/inputs"

# case  model
cases=(
    "det_960x960  ch_PP-OCRv4_det_infer.onnx"
    "det_1280x960 ch_PP-OCRv4_det_infer.onnx"
    "rec_1x320    ch_PP-OCRv4_rec_infer.onnx"
    "rec_8x640    ch_PP-OCRv4_rec_infer.onnx"
    "cls_1x192    ch_ppocr_mobile_v2.0_cls_infer.onnx"
)
for entry in "${cases[@]}"; do
    read -r case model <<<"$entry"
    [[ -r $weights/$model ]] || die "missing $weights/$model (run weights/fetch.sh)"
    rm -rf "${out:?}/$case/ort"
    echo "== $case ($model)"
    node "$here/run_ort.js" "$weights/$model" "$out/$case/ort" "x=$out/inputs/$case.npy"
done
echo "make_reference.sh: references in $out"
