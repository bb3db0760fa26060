#!/usr/bin/python3
"""export.py - docTR models to ONNX plus a docrt model description.

    /usr/bin/python3 tools/doctr/export.py ARCH -o DIR [--checkpoint FILE.pt]
        [--seed N]
        writes DIR/ARCH.onnx the way docTR's export_model_to_onnx does
        (input "input", output "logits", dynamic batch), DIR/ARCH.json (the
        model description docrt reads: docTR's input size, padding,
        mean/std, DB thresholds, vocabulary and blank index) and, for a
        recognizer, DIR/ARCH.vocab.txt (one character per line, docTR's
        order). Without --checkpoint the weights are seeded random ones.
    /usr/bin/python3 tools/doctr/export.py ARCH -o DIR --reference ...
        also writes seeded inputs DIR/ARCH.b<B>.input.npy and PyTorch's
        logits for them, DIR/ARCH.b<B>.logits.npy, at two batch sizes B
        (detection 1 and 2, recognition 1 and 5): what
        tests/test_doctr_models.c compares docrt against.

ARCH: db_mobilenet_v3_large, crnn_mobilenet_v3_small,
crnn_mobilenet_v3_large, crnn_vgg16_bn; `all` exports the four.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import doctr_models as dm  # noqa: E402

OPSET = 14


def description(arch, task):
    """docTR's conventions, as docrt's model description."""
    if task == "detection":
        return {
            "format": "docrt-model-description/1",
            "task": "detection",
            "architecture": f"docTR {arch}",
            "family": "doctr",
            "input": {"name": "input", "channel_order": "RGB", "scale": 1 / 255.0,
                      "mean": list(dm.DET_MEAN), "std": list(dm.DET_STD),
                      "pad": "symmetric", "pad_pixel": 0},
            "output": "logits",
            "buckets": [[dm.DET_INPUT[1], dm.DET_INPUT[2]]],
            "max_side": max(dm.DET_INPUT[1:]),
            "postprocess": {"style": "doctr", "thresh": 0.3, "box_thresh": 0.1,
                            "unclip_ratio": 1.5, "min_size": 2,
                            "max_candidates": 1000},
        }
    return {
        "format": "docrt-model-description/1",
        "task": "recognition",
        "architecture": f"docTR {arch}",
        "family": "doctr",
        "input": {"name": "input", "height": dm.REC_INPUT[1], "channel_order": "RGB",
                  "scale": 1 / 255.0, "mean": list(dm.REC_MEAN), "std": list(dm.REC_STD),
                  "resize": "fit", "pad_pixel": 0},
        "output": "logits",
        "widths": [dm.REC_INPUT[2]],
        "batch": 32,
        "split": {"max_ratio": 8, "target_ratio": 6, "dilation": 1.4},
        "vocab": {"file": f"{arch}.vocab.txt", "blank": "last", "space": False},
    }


def export(arch, out, checkpoint=None, seed=0, ref_batches=()):
    task, model = dm.build(arch, seed, checkpoint)
    shape = dm.DET_INPUT if task == "detection" else dm.REC_INPUT
    onnx_path = os.path.join(out, arch + ".onnx")
    dummy = torch.rand((2, *shape), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        torch.onnx.export(model, dummy, onnx_path, input_names=["input"],
                          output_names=["logits"],
                          dynamic_axes={"input": {0: "batch_size"}, "logits": {0: "batch_size"}},
                          export_params=True, opset_version=OPSET, do_constant_folding=True)
    with open(os.path.join(out, arch + ".json"), "w") as f:
        json.dump(description(arch, task), f, indent=2)
        f.write("\n")
    if task == "recognition":
        with open(os.path.join(out, arch + ".vocab.txt"), "w", encoding="utf-8") as f:
            f.write("".join(c + "\n" for c in dm.ARCHS[arch][2]))
    for b in ref_batches:
        x = dm.random_input(task, b, torch.Generator().manual_seed(1000 + b))
        with torch.inference_mode():
            y = model(x)
        np.save(os.path.join(out, f"{arch}.b{b}.input.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(out, f"{arch}.b{b}.logits.npy"), y.numpy().astype(np.float32))
        print(f"export.py: {arch} batch {b}: logits {tuple(y.shape)}, "
              f"|max| {float(y.abs().max()):.3f}", file=sys.stderr)
    return onnx_path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("arch", choices=list(dm.ARCHS) + ["all"])
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--checkpoint")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reference", action="store_true",
                    help="also write seeded inputs and PyTorch's logits")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    archs = list(dm.ARCHS) if args.arch == "all" else [args.arch]
    if args.checkpoint and len(archs) > 1:
        ap.error("--checkpoint needs one ARCH")
    for a in archs:
        batches = ((1, 2) if dm.ARCHS[a][0] == "detection" else (1, 5)) if args.reference else ()
        path = export(a, args.out, args.checkpoint, args.seed, batches)
        print(f"export.py: wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
