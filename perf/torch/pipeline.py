#!/usr/bin/python3
"""pipeline.py - the PyTorch OCR pipeline a PyTorch user runs around PP-OCRv4.

The baseline of perf/: the same ONNX graphs as docrt (weights/), executed by
PyTorch eager ops (onnx_torch.py), with the pre- and post-processing of
PaddleOCR's Python pipeline and docTR's batching:

  detection    page (BGR, as read by OpenCV) resized so its longest side is
               at most --max-side (960), each side rounded to a multiple of
               32 (so every page size is a new input shape), normalised with
               the ImageNet mean/std; DB post-processing with OpenCV
               (findContours, minAreaRect) and pyclipper (unclip 1.5),
               threshold 0.3, box score 0.6, boxes sorted top-down
  recognition  each box cut out with a perspective warp (tall crops turned),
               resized to height 48, sorted by aspect, batches of up to
               --batch (128, as docTR) crops padded to the batch's widest
               (the last batch is a new shape), CTC greedy decoding in numpy,
               lines under 0.5 confidence dropped
  output       OUTDIR/<stem>.txt, pages split by a form feed

    /usr/bin/python3 perf/torch/pipeline.py IMAGE... -o OUTDIR
        [--threads N] [--rss-log FILE] [--list FILE]

--rss-log writes one line per page: index, seconds, RSS in MiB, file, page.
The environment decides the PyTorch setting: defaults, or the mitigations
users are told to apply (ONEDNN_PRIMITIVE_CACHE_CAPACITY=1,
LRU_CACHE_CAPACITY=1); perf/ scripts set them.
"""
import argparse
import math
import os
import sys
import time

import cv2
import numpy as np
import pyclipper
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_torch import TorchGraph  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
DET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def read_pages(path):
    """Every page as an 8-bit BGR array (OpenCV decodes TIFF/PNG/JPEG)."""
    if path.lower().endswith((".tif", ".tiff")):
        ok, pages = cv2.imreadmulti(path, flags=cv2.IMREAD_COLOR)
        if not ok or not pages:
            raise ValueError("cannot decode")
        return list(pages)
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("cannot decode")
    return [img]


# ---- detection ----

def det_input(img, max_side):
    h, w = img.shape[:2]
    ratio = min(1.0, max_side / max(h, w))
    rh = max(32, int(round(h * ratio / 32)) * 32)
    rw = max(32, int(round(w * ratio / 32)) * 32)
    x = cv2.resize(img, (rw, rh)).astype(np.float32) / 255.0
    x = (x - DET_MEAN) / DET_STD
    return torch.from_numpy(x.transpose(2, 0, 1)[None].copy())


def mini_box(contour):
    rect = cv2.minAreaRect(contour)
    pts = sorted(cv2.boxPoints(rect).tolist(), key=lambda p: p[0])
    left = sorted(pts[:2], key=lambda p: p[1])
    right = sorted(pts[2:], key=lambda p: p[1])
    box = np.array([left[0], right[0], right[1], left[1]], np.float32)
    return box, min(rect[1])


def box_score(pred, box):
    h, w = pred.shape
    xmin = int(np.clip(np.floor(box[:, 0].min()), 0, w - 1))
    xmax = int(np.clip(np.ceil(box[:, 0].max()), 0, w - 1))
    ymin = int(np.clip(np.floor(box[:, 1].min()), 0, h - 1))
    ymax = int(np.clip(np.ceil(box[:, 1].max()), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), np.uint8)
    b = box.copy()
    b[:, 0] -= xmin
    b[:, 1] -= ymin
    cv2.fillPoly(mask, b.reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(pred[ymin:ymax + 1, xmin:xmax + 1], mask)[0]


def unclip(box, ratio):
    poly = box.astype(np.float64)
    area = abs(cv2.contourArea(poly.astype(np.float32)))
    length = cv2.arcLength(poly.astype(np.float32), True)
    if length <= 0:
        return None
    off = pyclipper.PyclipperOffset()
    off.AddPath([tuple(p) for p in poly.tolist()], pyclipper.JT_ROUND,
                pyclipper.ET_CLOSEDPOLYGON)
    out = off.Execute(area * ratio / length)
    if len(out) != 1:
        return None
    return np.array(out[0], np.float32)


def db_boxes(pred, page_h, page_w, thresh=0.3, box_thresh=0.6, ratio=1.5,
             min_size=3, max_candidates=1000):
    h, w = pred.shape
    bitmap = (pred > thresh).astype(np.uint8)
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST,
                                   cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for c in contours[:max_candidates]:
        box, sside = mini_box(c)
        if sside < min_size:
            continue
        if box_score(pred, box) < box_thresh:
            continue
        poly = unclip(box, ratio)
        if poly is None:
            continue
        box, sside = mini_box(poly.reshape(-1, 1, 2))
        if sside < min_size + 2:
            continue
        box[:, 0] = np.clip(np.round(box[:, 0] / w * page_w), 0, page_w)
        box[:, 1] = np.clip(np.round(box[:, 1] / h * page_h), 0, page_h)
        boxes.append(box)
    # Top-down, then left-right within a line (PaddleOCR's sorted_boxes).
    boxes.sort(key=lambda b: (b[0][1], b[0][0]))
    for i in range(len(boxes) - 1):
        for j in range(i, -1, -1):
            if abs(boxes[j + 1][0][1] - boxes[j][0][1]) < 10 and \
                    boxes[j + 1][0][0] < boxes[j][0][0]:
                boxes[j], boxes[j + 1] = boxes[j + 1], boxes[j]
            else:
                break
    return boxes


# ---- recognition ----

def crop(img, box):
    w = int(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3])))
    h = int(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2])))
    w, h = max(w, 1), max(h, 1)
    dst = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(box.astype(np.float32), dst)
    out = cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE,
                              flags=cv2.INTER_CUBIC)
    if h / w >= 1.5:
        out = np.rot90(out)
    return out


def rec_batch(crops, height=48):
    ratio = max(c.shape[1] / c.shape[0] for c in crops)
    width = int(math.ceil(height * ratio))
    x = np.zeros((len(crops), 3, height, width), np.float32)
    for i, c in enumerate(crops):
        rw = min(width, int(math.ceil(height * c.shape[1] / c.shape[0])))
        r = cv2.resize(c, (rw, height)).astype(np.float32) / 255.0
        x[i, :, :, :rw] = ((r - 0.5) / 0.5).transpose(2, 0, 1)
    return torch.from_numpy(x)


def ctc_decode(probs, keys):
    """probs: N x T x C; index 0 is the blank. Returns [(text, score)]."""
    idx = probs.argmax(2)
    conf = probs.max(2)
    out = []
    for n in range(probs.shape[0]):
        chars, scores, prev = [], [], 0
        for t, k in enumerate(idx[n]):
            if k != 0 and k != prev:
                chars.append(keys[k - 1] if k - 1 < len(keys) else "")
                scores.append(conf[n, t])
            prev = k
        out.append(("".join(chars), float(np.mean(scores)) if scores else 0.0))
    return out


class Pipeline:
    def __init__(self, weights, max_side=960, batch=128):
        self.det = TorchGraph(os.path.join(weights, "ch_PP-OCRv4_det_infer.onnx"))
        self.rec = TorchGraph(os.path.join(weights, "ch_PP-OCRv4_rec_infer.onnx"))
        with open(os.path.join(weights, "ppocr_keys_v1.txt"), encoding="utf-8") as f:
            self.keys = [ln.rstrip("\r\n") for ln in f] + [" "]
        self.max_side = max_side
        self.batch = batch

    def page(self, img):
        prob = self.det(det_input(img, self.max_side))[0, 0].numpy()
        boxes = db_boxes(prob, img.shape[0], img.shape[1])
        crops = [crop(img, b) for b in boxes]
        order = sorted(range(len(crops)),
                       key=lambda i: crops[i].shape[1] / crops[i].shape[0])
        texts = [""] * len(crops)
        for s in range(0, len(order), self.batch):
            ids = order[s:s + self.batch]
            probs = self.rec(rec_batch([crops[i] for i in ids])).numpy()
            for i, (t, sc) in zip(ids, ctc_decode(probs, self.keys)):
                texts[i] = t if sc >= 0.5 else ""
        return "\n".join(t for t in texts if t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("images", nargs="*")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--list", help="a file with one image path per line")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--weights", default=os.path.join(REPO, "weights"))
    ap.add_argument("--max-side", type=int, default=960)
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--rss-log")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    paths = list(args.images)
    if args.list:
        with open(args.list) as f:
            paths += [ln.strip() for ln in f if ln.strip()]
    os.makedirs(args.out, exist_ok=True)
    t_load = time.perf_counter()
    pipe = Pipeline(args.weights, args.max_side, args.batch)
    t_load = time.perf_counter() - t_load
    log = open(args.rss_log, "w") if args.rss_log else None
    if log:
        log.write(f"0\t0.000\t{rss_mib():.1f}\t-\t0\n")
        log.flush()
    n, failed, t_all = 0, 0, time.perf_counter()
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        try:
            pages = read_pages(path)
        except Exception as e:  # a bad file is reported, the run goes on
            print(f"pipeline.py: {path}: {e}", file=sys.stderr)
            failed += 1
            continue
        texts = []
        for p, img in enumerate(pages, 1):
            t0 = time.perf_counter()
            texts.append(pipe.page(img))
            n += 1
            if log:
                log.write(f"{n}\t{time.perf_counter() - t0:.3f}\t"
                          f"{rss_mib():.1f}\t{path}\t{p}\n")
                log.flush()
        with open(os.path.join(args.out, stem + ".txt"), "w",
                  encoding="utf-8") as f:
            f.write("\f".join(texts) + "\n")
    wall = time.perf_counter() - t_all
    print(f"pipeline.py: models loaded in {t_load * 1e3:.0f} ms; {n} pages in "
          f"{wall:.1f} s ({wall / max(n, 1):.2f} s/page), {failed} files failed, "
          f"RSS {rss_mib():.0f} MiB", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
