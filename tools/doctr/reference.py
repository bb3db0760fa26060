#!/usr/bin/python3
"""reference.py - docTR's pre- and post-processing in Python (OpenCV,
pyclipper, numpy, torch), the reference docrt's docTR conventions are
tested against.

    /usr/bin/python3 tools/doctr/reference.py OUT
        writes the cases of tests/test_doctr_postprocess.c into OUT:
        det<K>.prob.npy  probability maps: the seeded db_mobilenet_v3_large
                         (tools/doctr/doctr_models.py) on rendered pages,
                         preprocessed as docTR does (fit in 1024x1024,
                         aspect kept, symmetric zero pad, normalised), then
                         sigmoid (random weights: high-frequency maps that
                         the opening mostly clears); maps shaped like a
                         trained head's (the pages' words as blurred
                         blobs); synthetic maps (rectangles, a ring with a
                         region in its hole, touching borders, noise, NaN)
        det<K>.boxes.npy docTR's DBPostProcessor boxes for each map (K x 5:
                         xmin, ymin, xmax, ymax, score, relative)
        rec.logits.npy   the seeded crnn_mobilenet_v3_small's logits on
                         random crops (B x 32 x 127)
        rec.txt          docTR's CTC decoding of them: one line per crop,
                         the word, a tab, the confidence

The post-processing follows docTR's DBPostProcessor (assume_straight_pages)
and CTCPostProcessor as described in tools/doctr/README.md.
"""
import os
import sys

import cv2
import numpy as np
import pyclipper
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import doctr_models as dm  # noqa: E402


# ---- pre-processing (docTR PreProcessor + Resize, detection) ----

def det_preprocess(page_rgb, size=1024):
    """Fit in size x size keeping the aspect ratio (bilinear), pad with zeros
    symmetrically, scale to [0, 1], normalise: a 1 x 3 x size x size tensor."""
    h, w = page_rgb.shape[:2]
    if h / w > 1:
        th, tw = size, max(int(size / (h / w)), 1)
    else:
        th, tw = max(int(size * (h / w)), 1), size
    img = torch.from_numpy(page_rgb.copy()).permute(2, 0, 1)
    import torchvision.transforms.functional as F
    img = F.resize(img, [th, tw], interpolation=F.InterpolationMode.BILINEAR)
    pw, ph = size - tw, size - th
    left, top = int(np.ceil(pw / 2)), int(np.ceil(ph / 2))
    img = torch.nn.functional.pad(img, (left, pw - left, top, ph - top))
    x = img.float().div(255).clip(0, 1)
    x = (x - torch.tensor(dm.DET_MEAN)[:, None, None]) / torch.tensor(dm.DET_STD)[:, None, None]
    return x[None]


# ---- DBPostProcessor, straight pages ----

def box_score(pred, points):
    h, w = pred.shape[:2]
    xmin = np.clip(np.floor(points[:, 0].min()).astype(np.int32), 0, w - 1)
    xmax = np.clip(np.ceil(points[:, 0].max()).astype(np.int32), 0, w - 1)
    ymin = np.clip(np.floor(points[:, 1].min()).astype(np.int32), 0, h - 1)
    ymax = np.clip(np.ceil(points[:, 1].max()).astype(np.int32), 0, h - 1)
    return pred[ymin:ymax + 1, xmin:xmax + 1].mean()


def polygon_to_box(points, unclip_ratio=1.5):
    x0, y0 = points.min(0)
    x1, y1 = points.max(0)
    area, length = float((x1 - x0) * (y1 - y0)), float(2 * ((x1 - x0) + (y1 - y0)))
    distance = area * unclip_ratio / length
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(points.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    paths = offset.Execute(distance)
    if not paths:
        return None
    idx = int(np.argmax([len(p) for p in paths]))
    return cv2.boundingRect(np.asarray(paths[idx], dtype=np.int32))


def db_postprocess(prob, bin_thresh=0.3, box_thresh=0.1, unclip_ratio=1.5):
    bitmap = (prob >= bin_thresh).astype(np.uint8)
    bitmap = cv2.morphologyEx(bitmap, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    height, width = bitmap.shape
    min_size_box = 1 + int(height / 512)
    contours, _ = cv2.findContours(bitmap, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours:
        if np.any(contour[:, 0].max(axis=0) - contour[:, 0].min(axis=0) < min_size_box):
            continue
        x, y, w, h = cv2.boundingRect(contour)
        points = np.array([[x, y], [x, y + h], [x + w, y + h], [x + w, y]])
        score = box_score(prob, points)
        if score < box_thresh:
            continue
        box = polygon_to_box(points, unclip_ratio)
        if box is None or box[2] < min_size_box or box[3] < min_size_box:
            continue
        x, y, w, h = box
        boxes.append([x / width, y / height, (x + w) / width, (y + h) / height, score])
    if not boxes:
        return np.zeros((0, 5), np.float32)
    return np.clip(np.asarray(boxes, np.float32), 0, 1)


def remove_padding(boxes, h, w):
    """docTR's predictor undoing the symmetric padding of an h x w page:
    relative coordinates stretched about the centre along the padded side."""
    b = boxes.copy()
    if h > w:
        b[:, [0, 2]] = np.clip((b[:, [0, 2]] - 0.5) * h / w + 0.5, 0, 1)
    elif w > h:
        b[:, [1, 3]] = np.clip((b[:, [1, 3]] - 0.5) * w / h + 0.5, 0, 1)
    return b


# ---- CTCPostProcessor ----

def ctc_decode(logits, vocab):
    probs = torch.softmax(torch.from_numpy(logits), -1)
    conf = probs.max(-1).values.min(1).values
    out = []
    for seq, c in zip(probs.argmax(-1).numpy(), conf.numpy()):
        ids, prev = [], None
        for k in seq:
            if k != prev and k != len(vocab):
                ids.append(int(k))
            prev = k
        out.append(("".join(vocab[i] for i in ids), float(c)))
    return out


# ---- cases ----

def render_page(h, w, seed):
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 255, np.uint8)
    y = 60
    while y < h - 40:
        x = 40
        while x < w - 200:
            word = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), rng.integers(2, 9)))
            scale = float(rng.uniform(0.8, 1.6))
            cv2.putText(img, word, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 2, cv2.LINE_AA)
            x += int(30 * scale * len(word)) + 30
        y += int(rng.integers(40, 90))
    return img


def text_map(page_rgb, size=1024, seed=0):
    """A map like a trained DB head's: the page's ink, dilated into word
    blobs, blurred, placed as docTR's pre-processing places the page."""
    rng = np.random.default_rng(seed)
    ink = (page_rgb.min(axis=2) < 128).astype(np.uint8)
    blobs = cv2.dilate(ink, np.ones((9, 15), np.uint8))
    prob = cv2.GaussianBlur(blobs.astype(np.float32), (0, 0), 3.0)
    prob = np.clip(prob * rng.uniform(0.7, 1.0, prob.shape).astype(np.float32), 0, 1)
    h, w = prob.shape
    th, tw = (size, max(int(size / (h / w)), 1)) if h > w else (max(int(size * h / w), 1), size)
    prob = cv2.resize(prob, (tw, th), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((size, size), np.float32)
    top, left = int(np.ceil((size - th) / 2)), int(np.ceil((size - tw) / 2))
    out[top:top + th, left:left + tw] = prob
    return out


def synthetic_maps():
    rng = np.random.default_rng(7)
    m = np.zeros((512, 768), np.float32)
    m[20:60, 30:300] = 0.9                      # a word
    m[100:180, 100:400] = 0.8                   # a ring ...
    m[120:160, 130:370] = 0.0
    m[130:150, 200:260] = 0.95                  # ... with a region in its hole (not external)
    m[0:30, 600:768] = 0.7                      # touching two borders
    m[300:302, 50:400] = 0.9                    # 2 px tall: removed by the opening
    m[400:420, 500:503] = 0.9                   # 3 px wide: kept, then too thin?
    m[450:500, 100:140] = 0.31                  # weak region: low score
    m[450:500, 140:200] = 0.05
    yield m
    noise = rng.random((256, 320)).astype(np.float32)
    yield cv2.GaussianBlur(noise, (0, 0), 2.0) * 1.6 - 0.3
    yield np.full((96, 128), np.nan, np.float32)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    maps = []
    _, det = dm.build("db_mobilenet_v3_large")
    for k, (h, w) in enumerate([(1400, 1000), (700, 1300)]):
        x = det_preprocess(render_page(h, w, k), 1024)
        with torch.no_grad():
            maps.append(torch.sigmoid(det(x))[0, 0].numpy())
    maps += [text_map(render_page(1400, 1000, 0), seed=1), text_map(render_page(700, 1300, 1), seed=2)]
    maps += list(synthetic_maps())
    for k, m in enumerate(maps):
        m = np.ascontiguousarray(m, np.float32)
        boxes = db_postprocess(np.nan_to_num(m, nan=0.0))
        np.save(os.path.join(out, f"det{k}.prob.npy"), m)
        np.save(os.path.join(out, f"det{k}.boxes.npy"), boxes)
        print(f"reference.py: det{k}: map {m.shape}, {len(boxes)} boxes", file=sys.stderr)
    _, rec = dm.build("crnn_mobilenet_v3_small")
    x = dm.random_input("recognition", 16, torch.Generator().manual_seed(3))
    with torch.no_grad():
        logits = rec(x).numpy().astype(np.float32)
    np.save(os.path.join(out, "rec.logits.npy"), logits)
    with open(os.path.join(out, "rec.txt"), "w", encoding="utf-8") as f:
        for word, conf in ctc_decode(logits, dm.VOCAB_FRENCH):
            f.write(f"{word}\t{conf:.6f}\n")
    with open(os.path.join(out, "rec.vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(c + "\n" for c in dm.VOCAB_FRENCH))
    print(f"reference.py: rec: {logits.shape[0]} crops", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
