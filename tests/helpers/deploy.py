"""Small segmentors and their logits, for the deploy tests."""
import torch

from upernet_mm.apis import build_segmentor
from upernet_mm.benchmark.candidates import convnext_model_cfg, randomize


def small_segmentor(backbone='convnext', channels=32):
    """A seeded ConvNeXt-atto (or ResNetV1c-18, whose BN sits in the deep
    stem, blocks and downsample paths) UPerNet with 6 classes, eval mode."""
    cfg = convnext_model_cfg('atto', channels=channels, num_classes=6)
    if backbone == 'resnet':
        cfg['backbone'] = dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=16,
            base_channels=16,
            out_indices=(0, 1, 2, 3),
            norm_cfg=dict(type='BN'))
        cfg['decode_head']['in_channels'] = [16, 32, 64, 128]
        cfg['auxiliary_head']['in_channels'] = 64
    torch.manual_seed(0)
    return randomize(build_segmentor(cfg), seed=1).eval()


def logits(model, x):
    """``encode_decode`` of an image batch (whole-image inference)."""
    metas = [
        dict(
            img_shape=tuple(x.shape[2:]),
            ori_shape=tuple(x.shape[2:]),
            pad_shape=tuple(x.shape[2:]))
    ] * x.shape[0]
    with torch.no_grad():
        return model.encode_decode(x, metas)
