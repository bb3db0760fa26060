#!/usr/bin/python3
"""Small ONNX models, one per fusion pattern of graph/graph_fuse.c, with an
input and the expected output computed by PyTorch in float64.

Usage: make_fusion_models.py OUTDIR
Writes OUTDIR/<case>/model.onnx, input.npy and expected.npy for each case
(test_fusion.c reads them). Weights come from a fixed seed, so the files are
the same on every run. Needs Debian's python3-onnx, python3-numpy and
python3-torch.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper as hp, numpy_helper

RNG = np.random.default_rng(11)


def rand(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def t(a):
    return torch.from_numpy(np.asarray(a, np.float64))


class Graph:
    """Nodes and constant initializers of one single-input model."""

    def __init__(self, x_shape):
        self.nodes, self.inits, self.n = [], [], 0
        self.x_shape = x_shape

    def const(self, a):
        self.n += 1
        name = f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(a, np.float32), name))
        return name

    def op(self, op, inputs, **attrs):
        self.n += 1
        out = f"v{self.n}"
        self.nodes.append(hp.make_node(op, inputs, [out], **attrs))
        return out

    def save(self, d, y, y_shape, x, expected):
        g = hp.make_graph(
            self.nodes, "fusion",
            [hp.make_tensor_value_info("x", TensorProto.FLOAT, list(self.x_shape))],
            [hp.make_tensor_value_info(y, TensorProto.FLOAT, list(y_shape))],
            self.inits)
        m = hp.make_model(g, opset_imports=[hp.make_opsetid("", 13)])
        onnx.checker.check_model(m)
        os.makedirs(d, exist_ok=True)
        onnx.save(m, os.path.join(d, "model.onnx"))
        np.save(os.path.join(d, "input.npy"), x.astype(np.float32))
        np.save(os.path.join(d, "expected.npy"), expected.astype(np.float32))


def bn_params(c):
    return (rand(c, scale=0.5) + 1, rand(c, scale=0.2), rand(c, scale=0.2),
            np.abs(rand(c)) + 0.5)


def bn_ref(y, p, eps=1e-5):
    g, b, m, v = (t(a).view(1, -1, 1, 1) for a in p)
    return (y - m) / torch.sqrt(v + eps) * g + b


def deconv_head(out):
    """The DB head's pattern (PP-OCR): ConvTranspose k2s2 -> Add(bias) -> BN
    -> Relu -> ConvTranspose k2s2 -> Add(scalar bias) -> Sigmoid."""
    x = rand(1, 8, 12, 10)
    w1, b1, w2, b2 = rand(8, 6, 2, 2, scale=0.4), rand(1, 6, 1, 1), \
        rand(6, 1, 2, 2, scale=0.4), rand(1, 1, 1, 1)
    bn = bn_params(6)
    g = Graph(x.shape)
    v = g.op("ConvTranspose", ["x", g.const(w1)], kernel_shape=[2, 2], strides=[2, 2])
    v = g.op("Add", [v, g.const(b1)])
    v = g.op("BatchNormalization", [v] + [g.const(a) for a in bn])
    v = g.op("Relu", [v])
    v = g.op("ConvTranspose", [v, g.const(w2)], kernel_shape=[2, 2], strides=[2, 2])
    v = g.op("Add", [v, g.const(b2)])
    y = g.op("Sigmoid", [v])
    r = F.conv_transpose2d(t(x), t(w1), stride=2) + t(b1)
    r = torch.relu(bn_ref(r, bn))
    r = torch.sigmoid(F.conv_transpose2d(r, t(w2), stride=2) + t(b2))
    g.save(os.path.join(out, "deconv_head"), y, r.shape, x, r.numpy())


def deconv_bias_relu(out):
    """ConvTranspose k2s2 with its own bias input, then Relu."""
    x = rand(2, 5, 7, 9)
    w, b = rand(5, 12, 2, 2, scale=0.5), rand(12)
    g = Graph(x.shape)
    v = g.op("ConvTranspose", ["x", g.const(w), g.const(b)], kernel_shape=[2, 2],
             strides=[2, 2])
    y = g.op("Relu", [v])
    r = torch.relu(F.conv_transpose2d(t(x), t(w), t(b), stride=2))
    g.save(os.path.join(out, "deconv_bias_relu"), y, r.shape, x, r.numpy())


def deconv_k3_bn(out):
    """A ConvTranspose that stays a deconvolution (3x3, stride 2, pads):
    Add(bias) -> BN folds into its weights and the Add's constant."""
    x = rand(1, 6, 9, 8)
    w, b = rand(6, 4, 3, 3, scale=0.4), rand(4, 1, 1)
    bn = bn_params(4)
    g = Graph(x.shape)
    v = g.op("ConvTranspose", ["x", g.const(w)], kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1])
    v = g.op("Add", [g.const(b), v])
    v = g.op("BatchNormalization", [v] + [g.const(a) for a in bn])
    y = g.op("Relu", [v])
    r = F.conv_transpose2d(t(x), t(w), stride=2, padding=1) + t(b).view(1, -1, 1, 1)
    r = torch.relu(bn_ref(r, bn))
    g.save(os.path.join(out, "deconv_k3_bn"), y, r.shape, x, r.numpy())


def deconv_grouped(out):
    """ConvTranspose k2s2 in two groups: not lowered as a 1x1 conv."""
    x = rand(1, 8, 6, 6)
    w = rand(8, 3, 2, 2, scale=0.5)
    g = Graph(x.shape)
    v = g.op("ConvTranspose", ["x", g.const(w)], kernel_shape=[2, 2], strides=[2, 2],
             group=2)
    y = g.op("Relu", [v])
    r = torch.relu(F.conv_transpose2d(t(x), t(w), stride=2, groups=2))
    g.save(os.path.join(out, "deconv_grouped"), y, r.shape, x, r.numpy())


def se_residual(out):
    """Paddle's RSE layer: y = conv(x); y + y * hardsigmoid(se(y))."""
    x = rand(1, 16, 10, 12)
    w = rand(24, 16, 3, 3, scale=0.2)
    w1, b1 = rand(6, 24, 1, 1, scale=0.3), rand(6)
    w2, b2 = rand(24, 6, 1, 1, scale=0.3), rand(24)
    g = Graph(x.shape)
    c = g.op("Conv", ["x", g.const(w)], pads=[1, 1, 1, 1])
    s = g.op("GlobalAveragePool", [c])
    s = g.op("Conv", [s, g.const(w1), g.const(b1)])
    s = g.op("Relu", [s])
    s = g.op("Conv", [s, g.const(w2), g.const(b2)])
    s = g.op("HardSigmoid", [s], alpha=0.2, beta=0.5)
    m = g.op("Mul", [c, s])
    y = g.op("Add", [c, m])
    rc = F.conv2d(t(x), t(w), padding=1)
    rs = rc.mean(dim=(2, 3), keepdim=True)
    rs = torch.relu(F.conv2d(rs, t(w1), t(b1)))
    rs = torch.clamp(F.conv2d(rs, t(w2), t(b2)) * 0.2 + 0.5, 0, 1)
    r = rc + rc * rs
    g.save(os.path.join(out, "se_residual"), y, r.shape, x, r.numpy())


def conv_add_bias(out):
    """Conv without bias, then Add of a [C,1,1] constant: the conv's bias;
    then Sigmoid, kept as its own step."""
    x = rand(1, 4, 11, 9)
    w, b = rand(10, 4, 3, 3, scale=0.3), rand(10, 1, 1)
    g = Graph(x.shape)
    v = g.op("Conv", ["x", g.const(w)], pads=[1, 1, 1, 1])
    v = g.op("Add", [v, g.const(b)])
    y = g.op("Sigmoid", [v])
    r = torch.sigmoid(F.conv2d(t(x), t(w), padding=1) + t(b).view(1, -1, 1, 1))
    g.save(os.path.join(out, "conv_add_bias"), y, r.shape, x, r.numpy())


def resize_between_convs(out, name, scale, align_corners):
    """Conv -> Resize (bilinear) -> Conv, the Resize one oneDNN cannot run
    (align_corners; half_pixel downsampling): graph_ref.c's kernel on the
    nhwc activations, with no reorder to plain f32 around it."""
    x = rand(1, 5, 10, 12)
    w1, w2 = rand(8, 5, 1, 1, scale=0.4), rand(6, 8, 3, 3, scale=0.2)
    g = Graph(x.shape)
    a = g.op("Conv", ["x", g.const(w1)])
    r = g.op("Resize", [a, "", g.const([1, 1, scale, scale])], mode="linear",
             coordinate_transformation_mode="align_corners" if align_corners else "half_pixel")
    y = g.op("Conv", [r, g.const(w2)], pads=[1, 1, 1, 1])
    ra = F.conv2d(t(x), t(w1))
    rr = F.interpolate(ra, scale_factor=scale, mode="bilinear", align_corners=align_corners)
    ref = F.conv2d(rr, t(w2), padding=1)
    g.save(os.path.join(out, name), y, ref.shape, x, ref.numpy())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for make in (deconv_head, deconv_bias_relu, deconv_k3_bn, deconv_grouped,
                 se_residual, conv_add_bias):
        make(sys.argv[1])
    resize_between_convs(sys.argv[1], "resize_align_corners", 2.0, True)
    resize_between_convs(sys.argv[1], "resize_down", 0.5, False)


if __name__ == "__main__":
    main()
