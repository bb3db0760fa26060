#!/usr/bin/python3
"""stages.py - where a page's time goes in docrt: each pipeline stage's
share, from `docrt ocr --timing` over a folder of pages.

    /usr/bin/python3 perf/devset/stages.py [--precision P] [--threads N]
        [--docrt-args "ARGS"] DIR...

Runs build/docrt (or $DOCRT_EXE) once over every image under DIR, one
stream (--jobs 1), and sums the per-page stages --timing prints: decode,
detector resize/normalise, detector network, DB post-processing, line
crops (warp and normalise), recognizer network, CTC decoding (spaces,
quotes), layout. "other" is the page time no stage accounts for (turning
pages, building lines, the upside-down check's bookkeeping). Prints
ms/page and percent of the page time per stage, median and total.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LINE = re.compile(
    r"page \d+: \d+x\d+ decode (?P<decode>[\d.]+) ms, detect (?P<detect>[\d.]+) ms "
    r"\(resize (?P<det_resize>[\d.]+), net (?P<det_net>[\d.]+), boxes (?P<det_post>[\d.]+)\), "
    r"recognize (?P<recognize>[\d.]+) ms \(crops (?P<rec_crop>[\d.]+), net (?P<rec_net>[\d.]+), "
    r"decode (?P<rec_decode>[\d.]+)\), layout (?P<layout>[\d.]+) ms")
STAGES = [("decode", "image decode"), ("det_resize", "detector: resize + normalise"),
          ("det_net", "detector: network"), ("det_post", "detector: DB post-processing"),
          ("rec_crop", "recognizer: line crops (warp + normalise)"),
          ("rec_net", "recognizer: network"), ("rec_decode", "recognizer: CTC decode, spaces, quotes"),
          ("layout", "layout"), ("other", "other (page turns, line building)")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--docrt-args", default="", help="more docrt ocr options")
    a = ap.parse_args()
    exe = os.environ.get("DOCRT_EXE", os.path.join(ROOT, "build", "docrt"))
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([exe, "ocr", "--timing", "--jobs", "1", "--threads", a.threads,
                            "--precision", a.precision, "-q", "--no-resume", "-o", out] +
                           a.docrt_args.split() + a.dirs,
                           capture_output=True, text=True)
    pages = []
    for line in r.stderr.splitlines():
        m = LINE.search(line)
        if m:
            v = {k: float(x) for k, x in m.groupdict().items()}
            v["total"] = v["decode"] + v["detect"] + v["recognize"] + v["layout"]
            v["other"] = v["total"] - sum(v[k] for k, _ in STAGES if k != "other")
            pages.append(v)
    if not pages:
        sys.exit("stages.py: no --timing lines from docrt:\n" + r.stderr[-2000:])
    tot = sum(p["total"] for p in pages)
    print(f"{len(pages)} pages, precision {a.precision}, threads {a.threads}, one stream; "
          f"{tot / len(pages):.0f} ms/page (decode + detect + recognize + layout)\n")
    print("| stage | ms/page | share of page time |")
    print("|---|---|---|")
    for k, name in STAGES:
        s = sum(p[k] for p in pages)
        print(f"| {name} | {s / len(pages):.1f} | {100 * s / tot:.1f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
