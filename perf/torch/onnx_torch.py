#!/usr/bin/python3
"""onnx_torch.py - the PP-OCR ONNX graphs executed by PyTorch eager ops.

The PyTorch baseline of perf/: each ONNX node becomes the torch call a
PyTorch model of the same network makes (Conv -> F.conv2d, ConvTranspose ->
F.conv_transpose2d, BatchNormalization -> F.batch_norm, GlobalAveragePool ->
F.adaptive_avg_pool2d, MatMul -> torch.matmul, ...), with the weights taken
from the graph's Constant nodes and initializers, converted to torch tensors
once. Shape arithmetic (Shape/Slice/Concat/Reshape) runs on small int64
tensors as in the exported graph, so any batch size and width runs.

    /usr/bin/python3 perf/torch/onnx_torch.py verify MODEL.onnx IN.npy REF.npy
        runs MODEL on IN.npy, compares with ONNX Runtime's REF.npy; prints
        the max abs error, exit 1 when above --tol (default 1e-3)
    /usr/bin/python3 perf/torch/onnx_torch.py serve MODEL.onnx IN.npy [--threads N]
        the timing harness of perf/bench_models.py: one warm-up run, then
        for each line "N" on stdin runs N times and prints the times in ms

Runs under torch.inference_mode(). Nothing here is tuned for speed beyond
what a PyTorch user writes: the point is PyTorch's own kernels (oneDNN 2.6.3
in Debian's python3-torch 1.13.1) on the same graph.
"""
import argparse
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F

_DTYPES = {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool,
           11: torch.float64}


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


def _conv_pads(a, nd=2):
    pads = list(a.get("pads", [0] * (2 * nd)))
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID"):
        raise ValueError("auto_pad SAME_* not supported")
    begin, end = pads[:nd], pads[nd:]
    return begin, end


def _sym_or_pad(x, begin, end, value=0.0):
    """Symmetric pads go to the op; asymmetric ones are applied first."""
    if begin == end:
        return x, begin
    # F.pad takes the last dim first: (w_begin, w_end, h_begin, h_end).
    p = []
    for b, e in zip(reversed(begin), reversed(end)):
        p += [b, e]
    return F.pad(x, p, value=value), [0] * len(begin)


class TorchGraph:
    """An ONNX graph as a list of torch calls."""

    def __init__(self, path):
        model = onnx.load(path)
        self.opset = max((o.version for o in model.opset_import
                          if o.domain in ("", "ai.onnx")), default=11)
        g = model.graph
        self.consts = {}
        for init in g.initializer:
            self.consts[init.name] = torch.from_numpy(
                numpy_helper.to_array(init).copy())
        inits = set(self.consts)
        self.inputs = [i.name for i in g.input if i.name not in inits]
        self.outputs = [o.name for o in g.output]
        self.steps = []
        for node in g.node:
            if node.op_type == "Constant":
                a = _attrs(node)
                if "value" not in a:
                    raise ValueError("Constant without a tensor value")
                self.consts[node.output[0]] = torch.from_numpy(
                    numpy_helper.to_array(a["value"]).copy())
                continue
            self.steps.append((self._make(node), list(node.input),
                               list(node.output)))
        self.n_nodes = len(self.steps)
        # Free each intermediate after its last use, as an eager PyTorch
        # model does when a Python reference goes: drop[i] lists the values
        # step i reads for the last time.
        last = {}
        for i, (_, ins, _) in enumerate(self.steps):
            for name in ins:
                if name and name not in self.consts:
                    last[name] = i
        keep = set(self.outputs)
        self.drop = [[] for _ in self.steps]
        for name, i in last.items():
            if name not in keep:
                self.drop[i].append(name)

    def _c(self, name):
        """A constant input read at build time (shapes, scales, clip)."""
        return self.consts[name] if name else None

    def _make(self, n):
        a = _attrs(n)
        op = n.op_type
        if op == "Conv":
            stride = a.get("strides", [1, 1])
            dil = a.get("dilations", [1, 1])
            groups = a.get("group", 1)
            begin, end = _conv_pads(a)
            w = self._c(n.input[1])
            b = self._c(n.input[2]) if len(n.input) > 2 and n.input[2] else None

            def conv(x, *_):
                x, pad = _sym_or_pad(x, begin, end)
                return F.conv2d(x, w, b, stride, pad, dil, groups)
            return conv
        if op == "ConvTranspose":
            stride = a.get("strides", [1, 1])
            dil = a.get("dilations", [1, 1])
            groups = a.get("group", 1)
            begin, end = _conv_pads(a)
            if begin != end:
                raise ValueError("asymmetric ConvTranspose pads")
            outpad = a.get("output_padding", [0, 0])
            w = self._c(n.input[1])
            b = self._c(n.input[2]) if len(n.input) > 2 and n.input[2] else None
            return lambda x, *_: F.conv_transpose2d(x, w, b, stride, begin,
                                                    outpad, groups, dil)
        if op == "BatchNormalization":
            eps = a.get("epsilon", 1e-5)
            sc, bi, mu, var = (self._c(i) for i in n.input[1:5])
            return lambda x, *_: F.batch_norm(x, mu, var, sc, bi, False, 0.0,
                                              eps)
        if op == "Relu":
            return lambda x: F.relu(x)
        if op == "Sigmoid":
            return lambda x: torch.sigmoid(x)
        if op == "HardSigmoid":
            al, be = a.get("alpha", 0.2), a.get("beta", 0.5)
            return lambda x: torch.clamp(x * al + be, 0.0, 1.0)
        if op == "HardSwish":
            return lambda x: F.hardswish(x)
        if op == "Clip":
            if self.opset >= 11:
                lo = self._c(n.input[1]) if len(n.input) > 1 else None
                hi = self._c(n.input[2]) if len(n.input) > 2 else None
                lo = float(lo) if lo is not None else None
                hi = float(hi) if hi is not None else None
            else:
                lo, hi = a.get("min"), a.get("max")
            return lambda x, *_: torch.clamp(x, lo, hi)
        binops = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul,
                  "Div": torch.div, "Pow": torch.pow}
        if op in binops:
            f = binops[op]
            if op == "Pow" and n.input[1] in self.consts and \
                    float(self.consts[n.input[1]]) == 2.0:
                return lambda x, _y: x * x
            return lambda x, y: f(x, y)
        if op == "Sqrt":
            return lambda x: torch.sqrt(x)
        if op == "GlobalAveragePool":
            return lambda x: F.adaptive_avg_pool2d(x, 1)
        if op in ("AveragePool", "MaxPool"):
            k = a["kernel_shape"]
            s = a.get("strides", [1] * len(k))
            begin, end = _conv_pads(a)
            ceil = bool(a.get("ceil_mode", 0))
            if op == "MaxPool":
                def mp(x):
                    x, pad = _sym_or_pad(x, begin, end, float("-inf"))
                    return F.max_pool2d(x, k, s, pad, 1, ceil)
                return mp
            cip = bool(a.get("count_include_pad", 0))
            if begin != end:
                raise ValueError("asymmetric AveragePool pads")
            return lambda x: F.avg_pool2d(x, k, s, begin, ceil, cip)
        if op == "Resize":
            mode = a.get("mode", b"nearest")
            ctm = a.get("coordinate_transformation_mode", b"half_pixel")
            scales = self._c(n.input[2]) if len(n.input) > 2 and n.input[2] \
                else None
            if mode != b"nearest" or ctm != b"asymmetric" or scales is None \
                    or scales.numel() != 4:
                raise ValueError("only nearest/asymmetric Resize by scales")
            sf = [float(v) for v in scales.tolist()]
            if sf[0] != 1 or sf[1] != 1 or any(v != int(v) for v in sf[2:]):
                raise ValueError(f"Resize scales {sf}")
            fs = (sf[2], sf[3])
            return lambda x, *_: F.interpolate(x, scale_factor=fs,
                                               mode="nearest")
        if op == "Concat":
            ax = a["axis"]
            return lambda *xs: torch.cat(xs, ax)
        if op == "Shape":
            return lambda x: torch.tensor(x.shape, dtype=torch.int64)
        if op == "Cast":
            dt = _DTYPES[a["to"]]
            return lambda x: x.to(dt)
        if op == "Slice":
            if self.opset < 10:
                starts, ends = a["starts"], a["ends"]
                axes = a.get("axes", list(range(len(starts))))
                steps = [1] * len(starts)
            else:
                starts = _ints(self._c(n.input[1]))
                ends = _ints(self._c(n.input[2]))
                axes = _ints(self._c(n.input[3])) if len(n.input) > 3 \
                    else list(range(len(starts)))
                steps = _ints(self._c(n.input[4])) if len(n.input) > 4 \
                    else [1] * len(starts)

            def sl(x, *_):
                idx = [slice(None)] * x.dim()
                for s, e, ax, st in zip(starts, ends, axes, steps):
                    d = x.shape[ax]
                    s = max(0, min(d, s + d if s < 0 else s))
                    e = max(0, min(d, e + d if e < 0 else e))
                    idx[ax] = slice(s, e, st)
                return x[tuple(idx)]
            return sl
        if op == "Reshape":
            def rs(x, shape):
                dims = _ints(shape)
                dims = [x.shape[i] if v == 0 else v for i, v in enumerate(dims)]
                return x.reshape(dims)
            return rs
        if op == "Transpose":
            perm = a["perm"]
            return lambda x: x.permute(perm)
        if op == "Squeeze":
            axes = a.get("axes")
            if axes is None:
                return lambda x: x.squeeze()

            def sq(x):
                for ax in sorted((v % x.dim() for v in axes), reverse=True):
                    x = x.squeeze(ax)
                return x
            return sq
        if op == "Unsqueeze":
            axes = sorted(a["axes"])

            def usq(x):
                for ax in axes:
                    x = x.unsqueeze(ax)
                return x
            return usq
        if op == "ReduceMean":
            axes = a.get("axes")
            keep = bool(a.get("keepdims", 1))
            return lambda x: x.mean(axes, keepdim=keep)
        if op == "MatMul":
            return lambda x, y: torch.matmul(x, y)
        if op == "Gemm":
            ta, tb = a.get("transA", 0), a.get("transB", 0)
            al, be = a.get("alpha", 1.0), a.get("beta", 1.0)

            def gemm(x, w, c=None):
                x = x.t() if ta else x
                w = w.t() if tb else w
                y = al * torch.matmul(x, w)
                return y + be * c if c is not None else y
            return gemm
        if op == "Softmax":
            ax = a.get("axis", 1 if self.opset < 13 else -1)
            if self.opset < 13:
                def sm(x):
                    shp = x.shape
                    axn = ax % x.dim()
                    y = torch.softmax(x.reshape(int(np.prod(shp[:axn])), -1), 1)
                    return y.reshape(shp)
                return sm
            return lambda x: torch.softmax(x, ax)
        raise ValueError(f"ONNX op {op} not translated")

    @torch.inference_mode()
    def __call__(self, *xs):
        env = dict(self.consts)
        for name, x in zip(self.inputs, xs):
            env[name] = x
        for (fn, ins, outs), drop in zip(self.steps, self.drop):
            r = fn(*(env[i] if i else None for i in ins))
            if len(outs) == 1:
                env[outs[0]] = r
            else:
                for o, v in zip(outs, r):
                    env[o] = v
            for name in drop:
                del env[name]
        res = [env[o] for o in self.outputs]
        return res[0] if len(res) == 1 else res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmd", choices=("verify", "serve"))
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("ref", nargs="?")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = TorchGraph(args.model)
    x = torch.from_numpy(np.load(args.input).astype(np.float32))
    if args.cmd == "verify":
        if not args.ref:
            ap.error("verify needs REF.npy")
        y = g(x).numpy()
        ref = np.load(args.ref)
        if y.shape != ref.shape:
            print(f"{args.model}: shape {y.shape} != reference {ref.shape}")
            return 1
        err = float(np.max(np.abs(y - ref)))
        ok = err <= args.tol
        print(f"onnx_torch: {args.model} on {args.input}: max abs error "
              f"{err:.3g} vs ONNX Runtime ({'ok' if ok else 'ABOVE'} "
              f"tol {args.tol:g})")
        return 0 if ok else 1
    g(x)  # warm-up
    print("ready", flush=True)
    for line in sys.stdin:
        n = int(line.strip() or 1)
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            g(x)
            ts.append((time.perf_counter() - t0) * 1e3)
        print(" ".join(f"{t:.3f}" for t in ts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
