#!/usr/bin/python3
"""train_synthetic_det.py - a few minutes of training for docTR's
db_mobilenet_v3_large on synthetic pages, so that the docTR benchmark's
detector finds words (no docTR checkpoint can be downloaded here; seeded
random weights find none after docTR's post-processing).

    /usr/bin/python3 perf/doctr/train_synthetic_det.py -o det.pt
        [--steps 300] [--batch 4] [--size 512] [--seed 0]

Pages: black words (random letters and digits, OpenCV Hershey fonts, random
sizes) on white, with a little noise; target: each word's box shrunk as DB
does (offset D = A(1 - 0.4^2) / L), BCE + dice on the probability map.
Writes a docTR-style state_dict (tools/doctr/export.py --checkpoint reads
it). This is for the benchmark's memory and speed, not a usable detector.
"""
import argparse
import os
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "doctr"))
import doctr_models as dm  # noqa: E402

FONTS = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN]
CHARS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def sample(size, rng):
    img = np.full((size, size), 255, np.uint8)
    tgt = np.zeros((size, size), np.float32)
    y = int(rng.integers(10, 40))
    while y < size - 10:
        scale = float(rng.uniform(0.4, 1.3))
        font = FONTS[int(rng.integers(len(FONTS)))]
        thick = 1 if scale < 0.8 else int(rng.integers(1, 3))
        x = int(rng.integers(0, 40))
        line_h = 0
        while x < size - 20:
            word = "".join(rng.choice(CHARS, int(rng.integers(1, 10))))
            (w, h), base = cv2.getTextSize(word, font, scale, thick)
            if x + w >= size:
                break
            cv2.putText(img, word, (x, y), font, scale, 0, thick, cv2.LINE_AA)
            x0, y0, x1, y1 = x, y - h, x + w, y + base
            bw, bh = x1 - x0, y1 - y0
            d = bw * bh * (1 - 0.4 ** 2) / (2 * (bw + bh))
            sx0, sy0 = int(round(x0 + d)), int(round(y0 + d))
            sx1, sy1 = int(round(x1 - d)), int(round(y1 - d))
            if sx1 > sx0 and sy1 > sy0:
                tgt[max(sy0, 0):sy1, max(sx0, 0):sx1] = 1
            line_h = max(line_h, h + base)
            x += w + int(rng.integers(int(8 * scale) + 4, int(30 * scale) + 10))
        y += line_h + int(rng.integers(6, 40))
    img = np.clip(img.astype(np.float32) + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    rgb = np.repeat(img[:, :, None], 3, axis=2)
    x = torch.from_numpy(rgb).permute(2, 0, 1).float() / 255
    x = (x - torch.tensor(dm.DET_MEAN)[:, None, None]) / torch.tensor(dm.DET_STD)[:, None, None]
    return x, torch.from_numpy(tgt)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    _, model = dm.build("db_mobilenet_v3_large", seed=args.seed)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.time()
    for step in range(1, args.steps + 1):
        xs, ts = zip(*(sample(args.size, rng) for _ in range(args.batch)))
        x, t = torch.stack(xs), torch.stack(ts)[:, None]
        logits = model(x)
        p = torch.sigmoid(logits)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, t, pos_weight=torch.tensor(3.0))
        dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
        loss = bce + dice
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 0 or step == 1:
            print(f"train: step {step}/{args.steps}, loss {loss.item():.3f} (bce {bce.item():.3f}, "
                  f"dice {dice.item():.3f}), {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    torch.save(model.state_dict(), args.out)
    print(f"train: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
