"""doctr_models.py - docTR's detection and recognition architectures in plain
PyTorch 1.13 + torchvision 0.14, written from docTR's published architecture
(mindee/doctr, models/detection/differentiable_binarization/pytorch.py,
models/recognition/crnn/pytorch.py, models/classification/{mobilenet,vgg}),
with the same module tree, so the state_dict keys are docTR's and a user's
checkpoint loads with load_state_dict(strict=True).

    db_mobilenet_v3_large    torchvision mobilenet_v3_large features tapped
                             after blocks 3, 6, 12 and 16 (24/40/112/960
                             channels, strides 4/8/16/32) -> FPN (256) ->
                             prob head conv3x3 -> ConvT k2s2 -> ConvT k2s2
    crnn_mobilenet_v3_small  mobilenet_v3_small / _large features with three
    crnn_mobilenet_v3_large  of the stride-2 depthwise convs set to (2, 1)
    crnn_vgg16_bn            vgg16_bn features, the last 3 max pools (2, 1)
                             -> 2-layer bidirectional LSTM (128) -> linear to
                             vocab + 1 (blank last); vocab "french" (126),
                             "legacy_french" (123) for crnn_vgg16_bn

The exportable forward returns the logits only (no sigmoid on the detection
map, no softmax on the recognition sequence), as docTR's ONNX export does.
"""
import string
from collections import OrderedDict

import torch
from torch import nn
from torchvision.models import mobilenetv3, vgg16_bn
from torchvision.models._utils import IntermediateLayerGetter

# docTR's vocabs["french"]: latin (digits, ascii_letters, punctuation), the
# currency signs of "english", then the French accented letters. 126 chars.
VOCAB_LATIN = string.digits + string.ascii_letters + string.punctuation
VOCAB_ENGLISH = VOCAB_LATIN + "°" + "£€¥¢฿"
VOCAB_FRENCH = VOCAB_ENGLISH + "àâéèêëîïôùûüçÀÂÉÈÊËÎÏÔÙÛÜÇ"
# vocabs["legacy_french"] (123 chars), what docTR's crnn_vgg16_bn was trained on
VOCAB_LEGACY_FRENCH = VOCAB_LATIN + "°" + "àâéèêëîïôùûçÀÂÉÈËÎÏÔÙÛÇ" + "£€¥¢฿"

# docTR's preprocessing constants (model default_cfgs).
DET_MEAN, DET_STD = (0.798, 0.785, 0.772), (0.264, 0.2749, 0.287)
REC_MEAN, REC_STD = (0.694, 0.695, 0.693), (0.299, 0.296, 0.301)
DET_INPUT = (3, 1024, 1024)
REC_INPUT = (3, 32, 128)


# ---- detection: DBNet ----

class FeaturePyramidNetwork(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        out_chans = out_channels // len(in_channels)
        self.in_branches = nn.ModuleList([
            nn.Sequential(nn.Conv2d(c, out_channels, 1, bias=False),
                          nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))
            for c in in_channels])
        self.upsample = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.out_branches = nn.ModuleList([
            nn.Sequential(nn.Conv2d(out_channels, out_chans, 3, padding=1, bias=False),
                          nn.BatchNorm2d(out_chans), nn.ReLU(inplace=True),
                          nn.Upsample(scale_factor=2 ** idx, mode="bilinear", align_corners=True))
            for idx in range(len(in_channels))])

    def forward(self, x):
        _x = [branch(t) for branch, t in zip(self.in_branches, x)]
        out = [_x[-1]]
        for t in _x[:-1][::-1]:
            out.append(self.upsample(out[-1]) + t)
        out = [branch(t) for branch, t in zip(self.out_branches, out[::-1])]
        return torch.cat(out, dim=1)


def _db_head(chans):
    return nn.Sequential(
        nn.Conv2d(chans, chans // 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(chans // 4), nn.ReLU(inplace=True),
        nn.ConvTranspose2d(chans // 4, chans // 4, 2, stride=2, bias=False),
        nn.BatchNorm2d(chans // 4), nn.ReLU(inplace=True),
        nn.ConvTranspose2d(chans // 4, 1, 2, stride=2))


class DBNet(nn.Module):
    def __init__(self, feat_extractor, head_chans=256):
        super().__init__()
        self.feat_extractor = feat_extractor
        was_training = feat_extractor.training
        feat_extractor.eval()
        with torch.no_grad():
            out = feat_extractor(torch.zeros((1, 3, 224, 224)))
            fpn_channels = [v.shape[1] for v in out.values()]
        feat_extractor.train(was_training)
        self.fpn = FeaturePyramidNetwork(fpn_channels, head_chans)
        self.prob_head = _db_head(head_chans)
        self.thresh_head = _db_head(head_chans)  # training only; kept for the keys

    def forward(self, x):
        feats = self.feat_extractor(x)
        feats = [feats[str(i)] for i in range(len(feats))]
        return self.prob_head(self.fpn(feats))


def db_mobilenet_v3_large():
    backbone = mobilenetv3.mobilenet_v3_large(weights=None).features
    layers = ["3", "6", "12", "16"]
    getter = IntermediateLayerGetter(backbone, {n: str(i) for i, n in enumerate(layers)})
    return DBNet(getter)


# ---- recognition: CRNN ----

def _rect_strides(model, names):
    for name in names:
        m = model
        for child in name.split("."):
            m = getattr(m, child)
        m.stride = (2, 1)
    return model


def mobilenet_v3_small_r():
    m = mobilenetv3.mobilenet_v3_small(weights=None)
    return _rect_strides(m, ["features.2.block.1.0", "features.4.block.1.0",
                             "features.9.block.1.0"]).features


def mobilenet_v3_large_r():
    m = mobilenetv3.mobilenet_v3_large(weights=None)
    return _rect_strides(m, ["features.4.block.1.0", "features.7.block.1.0",
                             "features.13.block.1.0"]).features


def vgg16_bn_r():
    m = vgg16_bn(weights=None)
    pools = [i for i, l in enumerate(m.features) if isinstance(l, nn.MaxPool2d)]
    for i in pools[-3:]:
        m.features[i] = nn.MaxPool2d((2, 1))
    return m.features


class CRNN(nn.Module):
    def __init__(self, feat_extractor, vocab=VOCAB_FRENCH, rnn_units=128, input_shape=REC_INPUT):
        super().__init__()
        self.vocab = vocab
        self.feat_extractor = feat_extractor
        was_training = feat_extractor.training
        feat_extractor.eval()
        with torch.no_grad():
            shape = feat_extractor(torch.zeros((1, *input_shape))).shape
        feat_extractor.train(was_training)
        self.decoder = nn.LSTM(input_size=shape[1] * shape[2], hidden_size=rnn_units,
                               batch_first=True, num_layers=2, bidirectional=True)
        self.linear = nn.Linear(2 * rnn_units, len(vocab) + 1)

    def forward(self, x):
        f = self.feat_extractor(x)
        c, h, w = f.shape[1], f.shape[2], f.shape[3]
        seq = torch.transpose(torch.reshape(f, (-1, h * c, w)), 1, 2)
        out, _ = self.decoder(seq)
        return self.linear(out)


# name -> (task, constructor, vocabulary)
ARCHS = OrderedDict([
    ("db_mobilenet_v3_large", ("detection", db_mobilenet_v3_large, None)),
    ("crnn_mobilenet_v3_small", ("recognition",
                                 lambda: CRNN(mobilenet_v3_small_r(), VOCAB_FRENCH), VOCAB_FRENCH)),
    ("crnn_mobilenet_v3_large", ("recognition",
                                 lambda: CRNN(mobilenet_v3_large_r(), VOCAB_FRENCH), VOCAB_FRENCH)),
    ("crnn_vgg16_bn", ("recognition",
                       lambda: CRNN(vgg16_bn_r(), VOCAB_LEGACY_FRENCH), VOCAB_LEGACY_FRENCH)),
])


def random_input(task, batch, g, size=None):
    """Uniform pixels in [0, 1] normalised with the model's mean and std:
    the input distribution of the seeded models and their test inputs."""
    shape = DET_INPUT if task == "detection" else REC_INPUT
    if size:
        shape = (3, size, size)
    mean, std = (DET_MEAN, DET_STD) if task == "detection" else (REC_MEAN, REC_STD)
    x = torch.rand((batch, *shape), generator=g)
    return (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def build(arch, seed=0, checkpoint=None):
    """The model in eval mode: weights from checkpoint (a docTR state_dict
    .pt) or seeded random ones. Random weights get BatchNorm statistics
    measured on random inputs (as training would leave them), so the signal
    survives the depth of the network and the logits depend on the input;
    with torchvision's initial statistics the backbones' outputs are the
    same for every input."""
    task, fn, _ = ARCHS[arch]
    torch.manual_seed(seed)
    model = fn()
    if checkpoint:
        state = torch.load(checkpoint, map_location="cpu")
        model.load_state_dict(state)
        return task, model.eval()
    g = torch.Generator().manual_seed(seed + 1)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(random_input(task, 8, g, size=256 if task == "detection" else None))
    for bn in bns:
        n = bn.num_features
        bn.momentum = 0.1
        bn.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
        bn.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    if task == "detection":
        # scale the last layer so the logits spread over a few units around
        # -2 (most of a page is background), as a trained DB head's do
        head = model.prob_head[6]
        model.eval()
        with torch.no_grad():
            y = model(random_input(task, 2, g, size=256))
            k = 4.0 / float(y.std())
            head.weight.data.mul_(k)
            head.bias.data.copy_(head.bias.data * k - float(y.mean()) * k - 2.0)
    if task == "recognition":
        # default init gives logits of about 0.1: widen them to a few units,
        # so that a comparison at 1e-3 means something
        model.linear.weight.data.copy_(torch.randn(model.linear.weight.shape, generator=g))
    return task, model.eval()
