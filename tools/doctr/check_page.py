#!/usr/bin/python3
"""check_page.py - docrt's page result against docTR's pre/post-processing
applied to docrt's own model outputs on that page.

    /usr/bin/python3 tools/doctr/check_page.py DEBUG_DIR PAGE.json VOCAB.txt

DEBUG_DIR is what `DOCRT_DEBUG_DOCTR=DEBUG_DIR docrt ocr --no-rotate ...`
wrote for one page: det_prob.npy (the detector map docTR's post-processing
reads), rec_logits.npy and pieces.tsv (each recognizer input: its line and
the fraction of the line's width it covers). PAGE.json is docrt's JSON
export of the page. The reference (tools/doctr/reference.py and docTR's
predictor steps):

  boxes  DBPostProcessor on det_prob, the symmetric padding undone as
         docTR's predictor does, scaled to the page: must equal docrt's line
         boxes (same count, each coordinate within 0.01 px)
  split  docTR's split_crops rule on each box's crop size: the number of
         pieces must equal docrt's
  text   CTC decoding of each piece's logits (blank last), the pieces joined
         by docTR's merge_strings: must equal docrt's text for that line

Prints a summary line; exit 1 on the first difference.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402


def lev(a, b):
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        diag, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            up = row[j]
            row[j] = min(diag + (a[i - 1] != b[j - 1]), up + 1, row[j - 1] + 1)
            diag = up
    return row[-1]


def merge_strings(a, b, dil=1.4):
    """docTR 0.6-0.7's merge_strings, keeping a when b is empty (as later
    docTR versions do)."""
    L = min(len(a), len(b))
    if L == 0:
        return a + b
    scores = [lev(a[-i:], b[:i]) / i for i in range(1, L + 1)]
    if len(scores) > 1 and scores[0] == 0 and scores[1] == 0:
        n_overlap = round(len(b) * (dil - 1) / dil)
        index = min(sum(1 for s in scores if s == 0), n_overlap)
    else:
        index, best = 0, 1.0
        for i, s in enumerate(scores):
            if s < best:
                index, best = i + 1, s
    return a + b if index == 0 else a[:-1] + b[index - 1:]


def fail(msg):
    print(f"check_page.py: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    dbg, page_json, vocab_path = sys.argv[1:4]
    vocab = [ln.rstrip("\n") for ln in open(vocab_path, encoding="utf-8")]
    doc = json.load(open(page_json, encoding="utf-8"))
    page = doc["pages"][0]
    H, W = page["dimensions"]
    prob = np.load(os.path.join(dbg, "det_prob.npy"))
    b = ref.remove_padding(ref.db_postprocess(prob), H, W)
    want = sorted(tuple(np.round(r, 2)) for r in (b[:, :4] * [W, H, W, H]).tolist()
                  if r[2] - r[0] >= 1 and r[3] - r[1] >= 1)

    lines = {}
    for row in open(os.path.join(dbg, "pieces.tsv")):
        k, u0, u1, x0, y0, x1, y1 = row.split("\t")
        lines.setdefault(int(k), {"box": tuple(float(v) for v in (x0, y0, x1, y1)), "pieces": []})
        lines[int(k)]["pieces"].append((float(u0), float(u1)))
    got = sorted(tuple(round(v, 2) for v in ln["box"]) for ln in lines.values())
    if len(got) != len(want):
        fail(f"{len(got)} docrt boxes, docTR {len(want)}")
    for g, w in zip(got, want):
        if max(abs(x - y) for x, y in zip(g, w)) > 0.011:
            fail(f"box {g} != docTR {w}")

    logits = np.load(os.path.join(dbg, "rec_logits.npy"))
    texts, n_split, r = {}, 0, 0
    for k in sorted(lines):
        ln = lines[k]
        x0, y0, x1, y1 = ln["box"]
        # docTR's split_crops on the crop's integer size
        cw = int(round(x1)) - int(round(x0))
        ch = int(round(y1)) - int(round(y0))
        n_want = int((cw / ch) // 6) if ch > 0 and cw / ch > 8 else 1
        if len(ln["pieces"]) != max(1, n_want):
            fail(f"line {k} ({cw}x{ch}): {len(ln['pieces'])} pieces, docTR {n_want}")
        n_split += len(ln["pieces"]) > 1
        words = [w for w, _ in ref.ctc_decode(logits[r:r + len(ln["pieces"])], vocab)]
        r += len(ln["pieces"])
        t = ""
        for w in words:
            t = merge_strings(t, w)
        texts[ln["box"]] = t

    # docrt's lines in its JSON, matched to the boxes by geometry
    n_checked = 0
    for blk in page["blocks"]:
        for line in blk["lines"]:
            (gx0, gy0), (gx1, gy1) = line["geometry"][:2]
            text = " ".join(w["value"] for w in line["words"])
            match = [t for bx, t in texts.items()
                     if abs(bx[0] / W - gx0) < 2e-3 and abs(bx[1] / H - gy0) < 2e-3 and
                     abs(bx[2] / W - gx1) < 2e-3 and abs(bx[3] / H - gy1) < 2e-3]
            if not match:
                fail(f"docrt line at {line['geometry']} matches no docTR box")
            if text not in match:
                fail(f"line at {line['geometry']}: docrt {text!r}, docTR {match}")
            n_checked += 1
    n_nonempty = sum(1 for t in texts.values() if t)
    if n_checked < n_nonempty:
        fail(f"docrt's JSON has {n_checked} lines, docTR reads {n_nonempty} non-empty words")
    print(f"check_page.py: {len(got)} boxes equal to docTR's, {n_split} split crops, "
          f"{n_checked} lines with docTR's text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
