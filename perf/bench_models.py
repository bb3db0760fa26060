#!/usr/bin/python3
"""bench_models.py - model-level latency: docrt vs ONNX Runtime vs PyTorch.

    /usr/bin/python3 perf/bench_models.py [--threads 1,2] [--runs 10]
        [--only det,rec,cls] [--out perf/results/models]

For every shape docrt compiles by default (the detector's 8 buckets, the
recognizer's 8 width buckets at batch 1 and 8, the direction classifier)
and every thread count, it starts one timing harness per system on the same
model file and the same input tensor:

  docrt-f32, docrt-bf16  build/docrt run-model --timing-loop --precision P
  docrt-int8             the same with --precision int8 and the model
                         description's int8 settings, calibrated first by
                         `docrt calibrate` on the rendered page (detector and
                         recognizer only; not in the default --systems)
  ort                    node tests/ort/run_ort.js --timing-loop (1.30.0, f32)
  torch                  perf/torch/onnx_torch.py serve (PyTorch 1.13.1 eager)

Each harness loads the model and runs once (warm-up), then the driver asks
each for one run in turn, --runs rounds, rotating the order every round, so
drift hits all systems alike; the table gives medians (and the spread as
p10-p90). Before each run the driver waits --pause seconds (default 0.05):
with several threads, the previous system's idle workers spin for a while
after their run (OpenMP's and ONNX Runtime's thread pools both do) and
would otherwise take a core from the next one; in the first 2-thread
tables this skewed batch-1 recognizer rows by up to 2x. Before any timing the PyTorch translation is checked against ONNX
Runtime on each model (max abs error <= 1e-3, else the run stops).

Inputs: the detector gets a rendered page of text (tests/ort/make_inputs.py)
resized into the bucket; the recognizer and classifier get seeded uniform
noise in [-1, 1] (their cost does not depend on the pixels).
Writes OUT.json and OUT.md (the table, with the machine and the command).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PY = "/usr/bin/python3"
W = os.path.join(ROOT, "weights")
MODELS = {
    "det": os.path.join(W, "ch_PP-OCRv4_det_infer.onnx"),
    "rec": os.path.join(W, "ch_PP-OCRv4_rec_infer.onnx"),
    "cls": os.path.join(W, "ch_ppocr_mobile_v2.0_cls_infer.onnx"),
}


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def det_input(page, h, w):
    import cv2
    img = cv2.imread(page, cv2.IMREAD_COLOR)
    s = min(h / img.shape[0], w / img.shape[1])
    rh, rw = int(img.shape[0] * s), int(img.shape[1] * s)
    x = cv2.resize(img, (rw, rh)).astype(np.float32) / 255.0
    x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / \
        np.array([0.229, 0.224, 0.225], np.float32)
    out = np.zeros((1, 3, h, w), np.float32)
    out[0, :, :rh, :rw] = x.transpose(2, 0, 1)
    return out


class Harness:
    def __init__(self, name, argv, env=None):
        self.name = name
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env)
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f"{name}: exited before ready: "
                                   f"{self.p.stderr.read()[-2000:]}")
            if line.strip() == "ready":
                break

    def run(self, n=1):
        self.p.stdin.write(f"{n}\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: died: {self.p.stderr.read()[-2000:]}")
        return [float(v) for v in line.split()]

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=30)
        except Exception:
            self.p.kill()


def int8_args(model, tmp):
    """run-model options for docrt-int8: the calibration docrt calibrate
    wrote for this model (from the benchmark's rendered page, read through
    the whole pipeline) and the int8 settings of its description."""
    name = os.path.basename(model)[:-len(".onnx")]
    with open(os.path.join(W, name + ".json")) as f:
        q = json.load(f).get("int8", {})
    a = ["--precision", "int8", "--ranges", os.path.join(tmp, name + ".int8.json")]
    if "convs" in q:
        a += ["--int8-convs", ",".join(q["convs"])]
    if "min_sqnr_db" in q:
        a += ["--int8-min-sqnr", str(q["min_sqnr_db"])]
    return a


def calibrate(tmp):
    docrt = os.environ.get("DOCRT_EXE", os.path.join(ROOT, "build", "docrt"))
    subprocess.run([docrt, "calibrate", "-q", os.path.join(tmp, "page.png"),
                    "--det-out", os.path.join(tmp, "ch_PP-OCRv4_det_infer.int8.json"),
                    "--rec-out", os.path.join(tmp, "ch_PP-OCRv4_rec_infer.int8.json")],
                   check=True)


def harnesses(model, npy, threads, systems, tmp):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    docrt = os.environ.get("DOCRT_EXE", os.path.join(ROOT, "build", "docrt"))
    argv = {
        "docrt-f32": [docrt, "run-model", model, "-i", f"x={npy}", "-o",
                      os.path.join(tmp, "d"), "--threads", str(threads),
                      "--precision", "f32", "--timing-loop"],
        "docrt-bf16": [docrt, "run-model", model, "-i", f"x={npy}", "-o",
                       os.path.join(tmp, "d"), "--threads", str(threads),
                       "--precision", "bf16", "--timing-loop"],
        "docrt-int8": [docrt, "run-model", model, "-i", f"x={npy}", "-o",
                       os.path.join(tmp, "d"), "--threads", str(threads),
                       "--timing-loop"] + (int8_args(model, tmp)
                                           if "cls" not in model else []),
        "ort": ["node", os.path.join(ROOT, "tests", "ort", "run_ort.js"), model,
                os.path.join(tmp, "o"), f"x={npy}", "--threads", str(threads),
                "--timing-loop"],
        "torch": [PY, os.path.join(ROOT, "perf", "torch", "onnx_torch.py"),
                  "serve", model, npy, "--threads", str(threads)],
    }
    # docrt runs the classifier in float only: no int8 row for it
    return [Harness(s, argv[s], env) for s in systems
            if not (s == "docrt-int8" and "cls" in model)]


def verify(tmp):
    """PyTorch translation vs ONNX Runtime, on each model, before timing."""
    rng = np.random.default_rng(7)
    cases = {"det": det_input(os.path.join(tmp, "page.png"), 960, 960),
             "rec": rng.uniform(-1, 1, (8, 3, 48, 640)).astype(np.float32),
             "cls": rng.uniform(-1, 1, (2, 3, 48, 192)).astype(np.float32)}
    for k, x in cases.items():
        npy = os.path.join(tmp, f"verify_{k}.npy")
        np.save(npy, x)
        od = os.path.join(tmp, f"verify_{k}_ort")
        subprocess.run(["node", os.path.join(ROOT, "tests", "ort", "run_ort.js"),
                        MODELS[k], od, f"x={npy}"], check=True,
                       capture_output=True)
        ref = [os.path.join(od, f) for f in os.listdir(od)][0]
        r = subprocess.run([PY, os.path.join(ROOT, "perf", "torch", "onnx_torch.py"),
                            "verify", MODELS[k], npy, ref], capture_output=True,
                           text=True)
        print(r.stdout.strip(), flush=True)
        if r.returncode != 0:
            sys.exit(f"bench_models: the PyTorch translation of {k} does not "
                     f"match ONNX Runtime; no timing\n{r.stderr}")


def pct(v, q):
    return float(np.percentile(np.array(v), q))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--only", default="det,rec,cls")
    ap.add_argument("--systems", default="docrt-f32,docrt-bf16,ort,torch")
    ap.add_argument("--rec-batches", default="1,8")
    ap.add_argument("--pause", type=float, default=0.05)
    ap.add_argument("--out", default=os.path.join(ROOT, "perf", "results", "models"))
    args = ap.parse_args()
    systems = args.systems.split(",")
    with open(os.path.join(W, "ch_PP-OCRv4_det_infer.json")) as f:
        det_buckets = json.load(f)["buckets"]
    with open(os.path.join(W, "ch_PP-OCRv4_rec_infer.json")) as f:
        rec_widths = json.load(f)["widths"]
    only = set(args.only.split(","))
    configs = []
    if "det" in only:
        configs += [("det", f"1x3x{h}x{w}", (1, 3, h, w)) for h, w in det_buckets]
    if "rec" in only:
        for b in (int(v) for v in args.rec_batches.split(",")):
            configs += [("rec", f"{b}x3x48x{w}", (b, 3, 48, w)) for w in rec_widths]
    if "cls" in only:
        configs += [("cls", "1x3x48x192", (1, 3, 48, 192)),
                    ("cls", "6x3x48x192", (6, 3, 48, 192))]
    results = []
    with tempfile.TemporaryDirectory(prefix="docrt_bench_") as tmp:
        subprocess.run([PY, os.path.join(ROOT, "tests", "ort", "make_inputs.py"),
                        tmp], check=True, capture_output=True)
        verify(tmp)
        if "docrt-int8" in systems:
            calibrate(tmp)
        rng = np.random.default_rng(1)
        for threads in (int(t) for t in args.threads.split(",")):
            for model, shape_s, shape in configs:
                npy = os.path.join(tmp, "in.npy")
                x = det_input(os.path.join(tmp, "page.png"), shape[2], shape[3]) \
                    if model == "det" else \
                    rng.uniform(-1, 1, shape).astype(np.float32)
                np.save(npy, x)
                t0 = time.time()
                hs = harnesses(MODELS[model], npy, threads, systems, tmp)
                times = {h.name: [] for h in hs}
                try:
                    for r in range(args.runs):
                        for h in hs[r % len(hs):] + hs[:r % len(hs)]:
                            time.sleep(args.pause)
                            times[h.name] += h.run(1)
                finally:
                    for h in hs:
                        h.close()
                row = {"model": model, "shape": shape_s, "threads": threads,
                       "runs": args.runs}
                for s in times:
                    row[s] = {"median_ms": round(float(np.median(times[s])), 3),
                              "p10_ms": round(pct(times[s], 10), 3),
                              "p90_ms": round(pct(times[s], 90), 3)}
                results.append(row)
                print(f"{model} {shape_s} t={threads}: " + "  ".join(
                    f"{s} {row[s]['median_ms']:.1f}" for s in times) +
                    f"  ({time.time() - t0:.0f} s)", flush=True)
    meta = {"cpu": cpu_name(), "cores": os.cpu_count(),
            "command": "/usr/bin/python3 perf/bench_models.py " + " ".join(sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d"), "systems": systems,
            "pause_s": args.pause,
            "torch": "Debian python3-torch 1.13.1 (oneDNN 2.6.3, OpenBLAS)",
            "ort": "onnxruntime-node 1.30.0 (CPU EP, graph optimisation 'all')"}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".json", "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    i8 = "docrt-int8" in systems
    hdr = "| model | input | threads | " + " | ".join(
        f"{s} (ms)" for s in systems) + " | docrt-bf16 / ort |" + \
        (" docrt-int8 / ort |" if i8 else "") + " torch / docrt-bf16 |"
    lines = [f"Machine: {meta['cpu']}, {meta['cores']} cores. Command: "
             f"`{meta['command']}`. Median of {args.runs} interleaved runs "
             f"after one warm-up, {args.pause:g} s pause before each "
             "(p10-p90 in the JSON).", "", hdr,
             "|" + "---|" * (5 + i8 + len(systems))]

    def ratio(r, a, b, fmt="{:.2f}"):
        return fmt.format(r[a]["median_ms"] / r[b]["median_ms"]) \
            if a in r and b in r else "-"
    for r in results:
        cells = [f"{r[s]['median_ms']:.1f}" if s in r else "-" for s in systems]
        lines.append(f"| {r['model']} | {r['shape']} | {r['threads']} | " +
                     " | ".join(cells) + f" | {ratio(r, 'docrt-bf16', 'ort')} |" +
                     (f" {ratio(r, 'docrt-int8', 'ort')} |" if i8 else "") +
                     f" {ratio(r, 'torch', 'docrt-bf16', '{:.1f}x')} |")
    with open(args.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
