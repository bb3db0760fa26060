#!/usr/bin/python3
"""summarize.py OUT PAGES SYSTEM... - the table and plot of run_memory.sh.

Reads OUT/rss_<system>.tsv (page, rss_mib), writes OUT/summary.json,
OUT/table.md and OUT/rss.png (gnuplot). Growth is reported two ways: the
RSS at the last page minus the RSS at page 100 (after warm-up), per 1,000
pages, and the least-squares slope over pages 100..N, per 1,000 pages.
"""
import json
import os
import subprocess
import sys

LABELS = {
    "docrt": "docrt (buckets, primitives built once)",
    "torch": "PyTorch 1.13.1 eager, defaults",
    "torch-mitigated": "PyTorch, ONEDNN_PRIMITIVE_CACHE_CAPACITY=1 LRU_CACHE_CAPACITY=1",
    "docrt-doctr": "docrt, docTR models (ONNX)",
    "torch-doctr": "docTR predictor in PyTorch 1.13.1 eager",
}


def load(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            p, r = line.split("\t")[:2]
            if int(p) > 0:
                rows.append((int(p), float(r)))
    return rows


def at(rows, page):
    best = None
    for p, r in rows:
        if p <= page:
            best = r
    return best if best is not None else rows[0][1]


def main():
    out, pages, systems = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    summary = {"pages": pages, "systems": {}}
    lines = ["| system | pages | RSS at page 1 (MiB) | at page 100 | at the end | "
             "peak | growth after page 100 (MiB per 1,000 pages) | fitted slope "
             "(MiB per 1,000 pages) |", "|---|---|---|---|---|---|---|---|"]
    plots, speed = [], []
    for s in systems:
        path = os.path.join(out, f"rss_{s}.tsv")
        rows = load(path) if os.path.exists(path) else []
        if not rows:
            continue
        last_p, last_r = rows[-1]
        r1, r100 = rows[0][1], at(rows, 100)
        span = max(1, last_p - 100)
        growth = (last_r - r100) / span * 1000
        pts = [(p, r) for p, r in rows if p >= 100]
        slope = 0.0
        if len(pts) > 1:
            mx = sum(p for p, _ in pts) / len(pts)
            my = sum(r for _, r in pts) / len(pts)
            sxx = sum((p - mx) ** 2 for p, _ in pts)
            slope = sum((p - mx) * (r - my) for p, r in pts) / sxx * 1000 if sxx else 0.0
        peak = max(r for _, r in rows)
        summary["systems"][s] = {
            "label": LABELS.get(s, s), "pages_done": last_p, "rss_page1_mib": r1,
            "rss_page100_mib": r100, "rss_end_mib": last_r, "peak_mib": peak,
            "growth_mib_per_1000_pages": round(growth, 1),
            "slope_mib_per_1000_pages": round(slope, 1)}
        tpath = os.path.join(out, f"time_{s}.txt")
        if os.path.exists(tpath):  # --sequential runs: whole-run wall time
            wall = float(open(tpath).read().split()[0])
            summary["systems"][s]["wall_s"] = wall
            summary["systems"][s]["pages_per_s"] = round(pages / wall, 3) if wall else None
            speed.append(f"- {LABELS.get(s, s)}: {pages} pages in {wall:.0f} s, "
                         f"{pages / wall:.3f} pages/s (load included)")
        lines.append(f"| {LABELS.get(s, s)} | {last_p} | {r1:.0f} | {r100:.0f} | "
                     f"{last_r:.0f} | {peak:.0f} | {growth:+.1f} | {slope:+.1f} |")
        plots.append(f"'{path}' using 1:($1 > 0 ? $2 : 1/0) with lines lw 2 "
                     f"title '{LABELS.get(s, s)}'")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if speed:
        lines += [""] + speed
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if plots:
        gp = (f"set terminal pngcairo size 1100,600 font 'DejaVu Sans,11'\n"
              if b"pngcairo" in subprocess.run(["gnuplot", "-e", "set terminal"],
                                               capture_output=True).stderr + b""
              else "set terminal png size 1100,600\n")
        gp += (f"set output '{os.path.join(out, 'rss.png')}'\n"
               "set title 'RSS after each page, one thread, same pages (varied sizes)'\n"
               "set xlabel 'pages done'\nset ylabel 'RSS (MiB)'\n"
               "set key top left\nset grid\nset yrange [0:*]\n"
               "set datafile separator '\\t'\nset termoption noenhanced\n"
               "plot " + ", ".join(plots) + "\n")
        subprocess.run(["gnuplot"], input=gp.encode(), check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
