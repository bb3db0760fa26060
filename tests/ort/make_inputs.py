#!/usr/bin/python3
"""make_inputs.py OUTDIR - model inputs cut from a rendered page of English text.

Renders one A4 page (2480x3508, 300 dpi) of fixed text with ImageMagick and the
DejaVu fonts, then writes float32 NCHW .npy inputs for the PP-OCR models:

  det_960x960.npy   1x3x960x960   page resized to fit (aspect kept), RGB,
  det_1280x960.npy  1x3x1280x960  (x/255 - mean)/std, zero padded right/bottom
  rec_1x320.npy     1x3x48x320    one text line
  rec_8x640.npy     8x3x48x640    eight text lines
  cls_1x192.npy     1x3x48x192    one short text line

Line crops come from the row projection of dark pixels; each crop is resized
to height 48 keeping its aspect (squeezed if wider than the input), normalised
(x/255 - 0.5)/0.5 and padded right with zeros, as PaddleOCR does. Padding is
applied after normalisation everywhere (0 in the normalised tensor).

Also writes page.png and inputs.txt (which line went where). Deterministic:
fixed text, no randomness. Run with /usr/bin/python3 (numpy + cv2).
"""
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np

PAGE_W, PAGE_H = 2480, 3508
FONT_DIR = "/usr/share/fonts/truetype/dejavu"

# (font file, point size at 300 dpi, RGB colour, x, text); a None entry is a
# blank line. Short lines (address, table rows) keep the line crops close to
# the aspect ratios the recogniser is fed in practice.
LINES = [
    ("DejaVuSans-Bold.ttf", 22, "#1a2a6c", 200, "Northwind Shipping Company"),
    ("DejaVuSerif-Italic.ttf", 14, "#000000", 200, "Quarterly Freight Report"),
    None,
    ("DejaVuSans.ttf", 12, "#000000", 200, "12 Harbour Road"),
    ("DejaVuSans.ttf", 12, "#000000", 200, "Bristol BS1 4QA"),
    ("DejaVuSans.ttf", 12, "#000000", 200, "United Kingdom"),
    ("DejaVuSans.ttf", 12, "#000000", 200, "Ref: NW-2024-117"),
    None,
    ("DejaVuSerif.ttf", 12, "#000000", 200,
     "During the spring quarter the company moved more cargo"),
    ("DejaVuSerif.ttf", 12, "#000000", 200,
     "through the western docks than in any quarter before."),
    ("DejaVuSerif.ttf", 12, "#000000", 200,
     "Delays at the northern gate fell by a third after the"),
    ("DejaVuSerif.ttf", 12, "#000000", 200,
     "new cranes were installed in March."),
    None,
    ("DejaVuSans-Bold.ttf", 12, "#000000", 200, "Shipments by port"),
    ("DejaVuSans.ttf", 12, "#000000", 200, "Bristol 1,204 tonnes"),
    ("DejaVuSans.ttf", 12, "#000000", 200, "Cardiff 867 tonnes"),
    ("DejaVuSans.ttf", 12, "#000000", 200, "Plymouth 455 tonnes"),
    ("DejaVuSans.ttf", 12, "#000000", 200, "Swansea 312 tonnes"),
    ("DejaVuSans.ttf", 12, "#000000", 200, "Total 2,838 tonnes"),
    None,
    ("DejaVuSerif.ttf", 12, "#000000", 200,
     "Rates for the summer quarter will be published on 1 June."),
    ("DejaVuSerif.ttf", 12, "#000000", 200,
     "Questions about this report may be sent to the freight office."),
    None,
    ("DejaVuSans.ttf", 10, "#333333", 200, "Page 1 of 1"),
]
LINE_STEP = 1.6  # baseline-to-baseline, in units of the font's pixel size

DET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
DET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def px(points):
    return points * 300.0 / 72.0


def render_page(png):
    convert = "/usr/bin/convert" if os.path.exists("/usr/bin/convert") else shutil.which("convert")
    if not convert:
        sys.exit("make_inputs: ImageMagick 'convert' not found")
    cmd = [convert, "-size", f"{PAGE_W}x{PAGE_H}", "xc:white", "-density", "300",
           "-units", "PixelsPerInch"]
    y = 260.0
    for entry in LINES:
        if entry is None:
            y += px(12) * LINE_STEP
            continue
        font, pt, colour, x, text = entry
        y += px(pt) * LINE_STEP
        cmd += ["-font", os.path.join(FONT_DIR, font), "-pointsize", str(pt),
                "-fill", colour, "-annotate", f"+{x}+{int(round(y))}", text]
    cmd += ["-alpha", "off", "-depth", "8", "-strip", "-define", "png:exclude-chunks=date,time",
            "PNG24:" + png]
    subprocess.run(cmd, check=True)


def find_lines(rgb):
    """Bounding boxes (x0, y0, x1, y1), exclusive ends, of the text lines."""
    dark = rgb.min(axis=2) < 160
    rows = np.flatnonzero(dark.any(axis=1))
    bands = []
    if rows.size:
        start = prev = rows[0]
        for r in rows[1:]:
            if r - prev > 4:  # a gap of more than 4 blank rows ends a line
                bands.append((start, prev + 1))
                start = r
            prev = r
        bands.append((start, prev + 1))
    boxes = []
    for y0, y1 in bands:
        if y1 - y0 < 10:
            continue
        cols = np.flatnonzero(dark[y0:y1].any(axis=0))
        boxes.append((int(cols[0]), int(y0), int(cols[-1]) + 1, int(y1)))
    return boxes


def crop_line(rgb, box):
    """The line with a margin of a quarter of its height, as det boxes are."""
    x0, y0, x1, y1 = box
    m = max(2, (y1 - y0) // 4)
    h, w = rgb.shape[:2]
    return rgb[max(0, y0 - m):min(h, y1 + m), max(0, x0 - m):min(w, x1 + m)]


def rec_tensor(crop, width):
    """3x48xW, PaddleOCR's resize_norm_img: height 48, aspect kept up to W."""
    h, w = crop.shape[:2]
    rw = min(width, max(1, int(np.ceil(48 * w / h))))
    img = cv2.resize(crop, (rw, 48), interpolation=cv2.INTER_LINEAR)
    img = (img.astype(np.float32) / 255.0 - 0.5) / 0.5
    out = np.zeros((3, 48, width), np.float32)
    out[:, :, :rw] = img.transpose(2, 0, 1)
    return out


def det_tensor(rgb, height, width):
    """1x3xHxW: fit the page keeping aspect, normalise, pad with zeros."""
    h, w = rgb.shape[:2]
    s = min(height / h, width / w)
    rh, rw = min(height, int(round(h * s))), min(width, int(round(w * s)))
    img = cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_AREA)
    img = (img.astype(np.float32) / 255.0 - DET_MEAN) / DET_STD
    out = np.zeros((1, 3, height, width), np.float32)
    out[0, :, :rh, :rw] = img.transpose(2, 0, 1)
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_inputs.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    png = os.path.join(outdir, "page.png")
    render_page(png)
    bgr = cv2.imread(png, cv2.IMREAD_COLOR)
    if bgr is None or bgr.shape[:2] != (PAGE_H, PAGE_W):
        sys.exit(f"make_inputs: could not read back {png}")
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])

    texts = [e[4] for e in LINES if e is not None]
    boxes = find_lines(rgb)
    if len(boxes) != len(texts):
        sys.exit(f"make_inputs: found {len(boxes)} text lines, rendered {len(texts)}")

    def aspect(i):
        x0, y0, x1, y1 = boxes[i]
        c = crop_line(rgb, boxes[i])
        return c.shape[1] / c.shape[0]

    # rec 1x320: the first line that fits 320 wide without squeezing.
    rec1 = next(i for i in range(len(boxes)) if 3.0 <= aspect(i) <= 320 / 48)
    # rec 8x640: the first eight lines (page order) that fit 640 unsqueezed,
    # falling back to the least squeezed if fewer fit.
    fit = [i for i in range(len(boxes)) if aspect(i) <= 640 / 48]
    if len(fit) < 8:
        fit = sorted(range(len(boxes)), key=aspect)[:8]
    rec8 = sorted(fit[:8])
    # cls 1x192: the line of smallest aspect (least squeezed to 192x48).
    cls1 = min(range(len(boxes)), key=aspect)

    arrays = {
        "det_960x960": det_tensor(rgb, 960, 960),
        "det_1280x960": det_tensor(rgb, 1280, 960),
        "rec_1x320": rec_tensor(crop_line(rgb, boxes[rec1]), 320)[None],
        "rec_8x640": np.stack([rec_tensor(crop_line(rgb, boxes[i]), 640) for i in rec8]),
        "cls_1x192": rec_tensor(crop_line(rgb, boxes[cls1]), 192)[None],
    }
    for name, a in arrays.items():
        np.save(os.path.join(outdir, name + ".npy"), np.ascontiguousarray(a, np.float32))

    with open(os.path.join(outdir, "inputs.txt"), "w") as f:
        f.write(f"page.png {PAGE_W}x{PAGE_H}, {len(boxes)} text lines\n")
        for name, a in arrays.items():
            f.write(f"{name} {'x'.join(map(str, a.shape))}\n")
        f.write(f"rec_1x320[0]: {texts[rec1]}\n")
        for k, i in enumerate(rec8):
            f.write(f"rec_8x640[{k}]: {texts[i]}\n")
        f.write(f"cls_1x192[0]: {texts[cls1]}\n")
    print(f"make_inputs: wrote {len(arrays)} inputs to {outdir}")


if __name__ == "__main__":
    main()
