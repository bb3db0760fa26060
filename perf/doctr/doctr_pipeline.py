#!/usr/bin/python3
"""doctr_pipeline.py - docTR's OCR predictor as a docTR user runs it on CPU:
the PyTorch side of the docTR benchmark (perf/doctr/run.sh).

    /usr/bin/python3 perf/doctr/doctr_pipeline.py --list FILE -o OUTDIR
        --det-checkpoint DET.pt [--threads N] [--rss-log FILE]

Models: tools/doctr/doctr_models.py's db_mobilenet_v3_large (weights from
--det-checkpoint) and crnn_mobilenet_v3_small (seeded weights, or
--rec-checkpoint), in eager mode under torch.inference_mode(), as docTR's
ocr_predictor runs them. One page per predictor call, as a batch job does:

  detection    the page fitted in 1024x1024 (aspect kept, symmetric zero
               pad), normalised, det batch 2 (one page: batch 1), sigmoid,
               docTR's DB post-processing (tools/doctr/reference.py)
  crops        padding undone, page[y0:y1, x0:x1] per box, crops wider than
               8:1 split (target 6:1, dilation 1.4)
  recognition  each crop fitted in 32x128, zero pad right/bottom, batches of
               128 (the last one a new shape), CTC greedy decoding
  output       OUTDIR/<stem>.txt, the words of each page in detection order

--rss-log writes one line per page: index, seconds, RSS in MiB, file, page
(the format perf/memory/run_memory.sh reads).
"""
import argparse
import os
import sys
import time

import cv2
import numpy as np
import torch
import torchvision.transforms.functional as TF

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tools", "doctr"))
sys.path.insert(0, os.path.join(here, "..", "torch"))
import doctr_models as dm  # noqa: E402
import reference as ref  # noqa: E402
from pipeline import read_pages, rss_mib  # noqa: E402


def split_crops(crops, max_ratio=8, target_ratio=6, dilation=1.4):
    out, cmap = [], []
    for c in crops:
        h, w = c.shape[:2]
        if w / h > max_ratio:
            n = int((w / h) // target_ratio)
            width = dilation * w / n
            centers = [w / n * (0.5 + i) for i in range(n)]
            subs = [c[:, max(0, int(round(x - width / 2))):min(w - 1, int(round(x + width / 2)))]
                    for x in centers]
            subs = [s for s in subs if all(s.shape[:2])]
            cmap.append((len(out), len(out) + len(subs)))
            out.extend(subs)
        else:
            cmap.append(len(out))
            out.append(c)
    return out, cmap


def rec_input(crop, H=32, W=128):
    img = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)
    h, w = crop.shape[:2]
    if h / w > H / W:
        th, tw = H, max(int(H / (h / w)), 1)
    else:
        th, tw = max(int(W * (h / w)), 1), W
    img = TF.resize(img, [th, tw], interpolation=TF.InterpolationMode.BILINEAR)
    img = torch.nn.functional.pad(img, (0, W - tw, 0, H - th))
    x = img.float().div(255)
    return (x - torch.tensor(dm.REC_MEAN)[:, None, None]) / torch.tensor(dm.REC_STD)[:, None, None]


class Predictor:
    def __init__(self, det_ckpt, rec_ckpt=None, reco_bs=128):
        _, self.det = dm.build("db_mobilenet_v3_large", checkpoint=det_ckpt)
        _, self.rec = dm.build("crnn_mobilenet_v3_small", checkpoint=rec_ckpt)
        self.reco_bs = reco_bs

    @torch.inference_mode()
    def page(self, bgr):
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        prob = torch.sigmoid(self.det(ref.det_preprocess(rgb)))[0, 0].numpy()
        boxes = ref.remove_padding(ref.db_postprocess(prob), h, w)
        px = np.round(boxes[:, :4] * [w, h, w, h]).astype(int)
        crops = [rgb[y0:y1, x0:x1] for x0, y0, x1, y1 in px]
        crops = [c for c in crops if c.shape[0] > 0 and c.shape[1] > 0]
        pieces, cmap = split_crops(crops)
        words = []
        for s in range(0, len(pieces), self.reco_bs):
            x = torch.stack([rec_input(c) for c in pieces[s:s + self.reco_bs]])
            words += [wd for wd, _ in ref.ctc_decode(self.rec(x).numpy(), dm.VOCAB_FRENCH)]
        out = []
        for m in cmap:
            out.append(words[m] if isinstance(m, int) else "".join(words[m[0]:m[1]]))
        return " ".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", required=True)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--det-checkpoint", required=True)
    ap.add_argument("--rec-checkpoint")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rss-log")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    pred = Predictor(args.det_checkpoint, args.rec_checkpoint)
    paths = [ln.strip() for ln in open(args.list) if ln.strip()]
    log = open(args.rss_log, "w") if args.rss_log else None
    n, t_all = 0, time.perf_counter()
    for path in paths:
        texts = []
        for p, img in enumerate(read_pages(path), 1):
            t0 = time.perf_counter()
            texts.append(pred.page(img))
            n += 1
            if log:
                log.write(f"{n}\t{time.perf_counter() - t0:.3f}\t{rss_mib():.1f}\t{path}\t{p}\n")
                log.flush()
        stem = os.path.splitext(os.path.basename(path))[0]
        with open(os.path.join(args.out, stem + ".txt"), "w", encoding="utf-8") as f:
            f.write("\f".join(texts) + "\n")
    wall = time.perf_counter() - t_all
    print(f"doctr_pipeline.py: {n} pages in {wall:.1f} s ({wall / max(n, 1):.2f} s/page, "
          f"{n / wall:.3f} pages/s), RSS {rss_mib():.0f} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
