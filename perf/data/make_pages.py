#!/usr/bin/python3
"""make_pages.py - pages of known text in many sizes, for perf/ benchmarks.

    /usr/bin/python3 perf/data/make_pages.py --count 2000 --out DIR [--seed 1]

Writes DIR/pNNNNN.png (8-bit grey) and DIR/gt/pNNNNN.txt (its text, one line
per line) and DIR/list.txt (the paths in order). Every page has its own size
(width --min-width to --max-width px, default 640 to 1700, aspect 1.25 to
1.5, as scans at 75 to 200 dpi), font
(DejaVu or Liberation, serif/sans/mono, some bold or italic), type size and
number of lines, so a pipeline that runs each page at its own shape meets a
new input shape on nearly every page; the detector of a bucketed runtime
does not. The text is seeded random English words, numbers and punctuation.
Deterministic for a given seed. Uses PIL (Debian python3-pil).
"""
import argparse
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont

FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationMono-Regular.ttf",
]

WORDS = """the of and to in is was for that with as on by at from his her
which be this are had not but have or it an were they their one all been
would there when who will more no if out so said what up its about into
than them can only other new some could time these two may then do first
any my now such like our over man me even most made after also did many
before must through back years where much your way well down should because
each just those people how too little state good very make world still own
see men work long get here between both life being under never day same
another know while last might us great old year off come since against go
came right used take three company report annual freight harbour river
street county court district archive letter section table figure page
chapter volume record office council school church market bridge station
railway library museum garden village morning evening winter summer north
south east west account payment invoice order number total balance amount
shipping delivery customer service quarter revenue income expense profit
""".split()


def sentence(rng):
    n = rng.randint(3, 12)
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.08:
            w = str(rng.randint(1, 9999))
        elif r < 0.11:
            w = f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}"
        else:
            w = rng.choice(WORDS)
            if i == 0 or rng.random() < 0.08:
                w = w.capitalize()
        out.append(w)
    s = " ".join(out)
    return s + rng.choice([".", ".", ",", ";", ":", "?", ""])


def page(rng, min_w, max_w):
    w = rng.randint(min_w, max_w)
    h = int(w * rng.uniform(1.25, 1.5))
    font_path = rng.choice(FONTS)
    size = max(12, int(w * rng.uniform(0.014, 0.03)))
    font = ImageFont.truetype(font_path, size)
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    margin = int(w * rng.uniform(0.06, 0.12))
    y = margin
    step = int(size * rng.uniform(1.5, 2.2))
    lines = []
    n_lines = rng.randint(4, 24)
    while len(lines) < n_lines and y + step < h - margin:
        text = sentence(rng)
        # Trim words until the line fits the text width.
        words = text.split()
        while words and d.textlength(" ".join(words), font=font) > w - 2 * margin:
            words.pop()
        if not words:
            break
        text = " ".join(words)
        ink = rng.randint(0, 60)
        d.text((margin, y), text, fill=ink, font=font)
        lines.append(text)
        y += step
        if rng.random() < 0.15:
            y += step  # a paragraph gap
    return img, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-width", type=int, default=640)
    ap.add_argument("--max-width", type=int, default=1700)
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "gt"), exist_ok=True)
    rng = random.Random(args.seed)
    paths = []
    for i in range(args.count):
        img, lines = page(rng, args.min_width, args.max_width)
        name = f"p{i:05d}"
        path = os.path.join(args.out, name + ".png")
        img.save(path, dpi=(150, 150))
        with open(os.path.join(args.out, "gt", name + ".txt"), "w",
                  encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        paths.append(os.path.abspath(path))
    with open(os.path.join(args.out, "list.txt"), "w") as f:
        f.write("\n".join(paths) + "\n")
    print(f"make_pages.py: {args.count} pages in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
