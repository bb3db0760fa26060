#!/usr/bin/python3
"""Render a page of known text and write it as a detector input tensor.

The page is drawn with ImageMagick (DejaVu Sans) when `convert` works, else
with cv2.putText. It is resized to fit SIZE x SIZE keeping its aspect ratio,
zero-padded right and bottom, normalised on RGB/255 with the ImageNet
mean/std that PP-OCR's detector expects, and saved as NCHW float32 .npy.

Writes (default folder tests/data/gen/, which git ignores):
  sample_page.png        the rendered page
  sample_page.txt        its text, one line per line
  sample_det_input.npy   float32 (1, 3, SIZE, SIZE)
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

PAGE_W, PAGE_H = 1240, 1754  # A4 at 150 dpi
MARGIN = 110
LINES = [
    "docrt sample page",
    "",
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs.",
    "Invoice 2024-0173   Total: 1,234.56 EUR",
    "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "",
    "Optical character recognition turns scanned",
    "pages into text that can be searched, indexed",
    "and read aloud. This page is rendered with a",
    "known text so that detector and recognizer",
    "output can be checked against it.",
]
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
]


def render_magick(png, font):
    convert = shutil.which("convert")
    if not convert or not font:
        return False
    # One -annotate per line keeps the layout exact and independent of
    # ImageMagick's paragraph handling.
    cmd = [convert, "-size", f"{PAGE_W}x{PAGE_H}", "xc:white",
           "-font", font, "-pointsize", "34", "-fill", "black"]
    y = MARGIN + 60
    for i, line in enumerate(LINES):
        if line:
            size = "52" if i == 0 else "34"
            cmd += ["-pointsize", size, "-annotate", f"+{MARGIN}+{y}", line]
        y += 80 if i == 0 else 56
    cmd += ["-type", "TrueColor", "PNG24:" + png]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as e:
        print(f"make_sample_input: convert failed ({e}); using cv2",
              file=sys.stderr)
        return False
    return os.path.exists(png) and cv2.imread(png) is not None


def render_cv2(png):
    img = np.full((PAGE_H, PAGE_W, 3), 255, np.uint8)
    y = MARGIN + 60
    for i, line in enumerate(LINES):
        if line:
            scale = 1.6 if i == 0 else 1.05
            cv2.putText(img, line, (MARGIN, y), cv2.FONT_HERSHEY_SIMPLEX,
                        scale, (0, 0, 0), 2, cv2.LINE_AA)
        y += 80 if i == 0 else 56
    cv2.imwrite(png, img)


def to_tensor(bgr, size):
    h, w = bgr.shape[:2]
    scale = min(size / w, size / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((size, size, 3), np.uint8)
    canvas[:nh, :nw] = resized
    rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    x = (rgb - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype="<f4")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(here, "data", "gen"))
    ap.add_argument("--size", type=int, default=960)
    ap.add_argument("--renderer", choices=["auto", "magick", "cv2"],
                    default="auto")
    a = ap.parse_args()

    os.makedirs(a.out_dir, exist_ok=True)
    png = os.path.join(a.out_dir, "sample_page.png")
    font = next((f for f in FONT_CANDIDATES if os.path.exists(f)), None)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_png = os.path.join(tmp, "page.png")
        ok = a.renderer != "cv2" and render_magick(tmp_png, font)
        if not ok:
            if a.renderer == "magick":
                sys.exit("make_sample_input: ImageMagick rendering failed")
            render_cv2(tmp_png)
        shutil.copyfile(tmp_png, png)
    with open(os.path.join(a.out_dir, "sample_page.txt"), "w") as f:
        f.write("\n".join(line for line in LINES if line) + "\n")

    bgr = cv2.imread(png, cv2.IMREAD_COLOR)
    if bgr is None:
        sys.exit(f"make_sample_input: cannot read back {png}")
    x = to_tensor(bgr, a.size)
    out = os.path.join(a.out_dir, "sample_det_input.npy")
    np.save(out, x)
    print(out)


if __name__ == "__main__":
    main()
