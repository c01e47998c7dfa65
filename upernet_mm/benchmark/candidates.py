"""The compared implementations, built with identical weights.

upernet_mm's model is built and given seeded random weights (BatchNorm
statistics included, so folding them is not trivial); mmseg's model loads
the same state dict (the keys are equal) and transformers' the state dict
converted by :mod:`upernet_mm.converters`.
"""
import copy
import os.path as osp
from typing import Dict, List, Sequence

import torch
import torch.nn as nn
from mmengine.config import Config
from mmseg.models.decode_heads import UPerHead as MMSegUPerHead

from upernet_mm.apis import build_segmentor
from upernet_mm.converters import mm_state_to_hf, mm_to_hf_config
from upernet_mm.converters.convnext import MM_ARCHS
from upernet_mm.converters.rules import apply_rules
from upernet_mm.converters.uper_head import head_rules
from upernet_mm.models import UPerHead

CONVNEXT_T_CHANNELS = [96, 192, 384, 768]
STRIDES = [4, 8, 16, 32]
REPO_CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')


def randomize(module: nn.Module, seed: int = 0) -> nn.Module:
    """Seeded non-default values for every weight and buffer, of roughly
    unit-variance activations, in place: conv and linear weights
    ``N(0, 1/fan_in)``, norm weights and layer scales near 1, biases, BN
    means and position tables small, BN variances in [0.5, 1.5], BN batch
    counts in [1, 1000).

    Used for the benchmark's models and by the tests, so that a key mapped
    to the wrong place (or BatchNorm folded wrongly) shows in the outputs:
    initial values (layer scales of 1e-6, zero position tables, BN
    statistics 0 and 1) would hide it.

    Returns:
        nn.Module: ``module``.
    """
    gen = torch.Generator().manual_seed(seed)
    # the batch counts from their own generator: the float values stay
    # those of the same seed with or without BatchNorm
    count_gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict(keep_vars=True).items():
            if not t.is_floating_point():
                if name.endswith('num_batches_tracked'):
                    t.fill_(
                        int(
                            torch.randint(1, 1000, (1, ),
                                          generator=count_gen)))
                continue
            if name.endswith('running_var'):
                value = torch.rand(t.shape, generator=gen) + 0.5
            elif t.dim() >= 2 and 'relative_position' not in name \
                    and 'position_embeddings' not in name:
                value = torch.randn(t.shape, generator=gen) / t[0].numel()**.5
            elif name.endswith('weight') or 'gamma' in name \
                    or 'layer_scale' in name:
                value = 1 + 0.1 * torch.randn(t.shape, generator=gen)
            else:
                value = 0.1 * torch.randn(t.shape, generator=gen)
            t.copy_(value)
    return module


def features(batch: int,
             image_size: Sequence[int],
             channels: Sequence[int] = CONVNEXT_T_CHANNELS,
             seed: int = 0) -> List[torch.Tensor]:
    """Random backbone features of an image of ``image_size`` (H, W)."""
    gen = torch.Generator().manual_seed(seed)
    h, w = image_size
    return [
        torch.randn(batch, c, h // s, w // s, generator=gen)
        for c, s in zip(channels, STRIDES)
    ]


def head_cfg(channels: int = 512,
             num_classes: int = 150,
             in_channels: Sequence[int] = CONVNEXT_T_CHANNELS) -> Dict:
    """The UPerNet decode head of the ConvNeXt recipes (plain BN, no
    dropout, since transformers' head has none)."""
    return dict(
        in_channels=list(in_channels),
        in_index=list(range(len(in_channels))),
        pool_scales=(1, 2, 3, 6),
        channels=channels,
        dropout_ratio=0.0,
        num_classes=num_classes,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False)


def _hf_head_state(cfg: Dict, state: Dict) -> Dict:
    model_cfg = dict(decode_head=dict(type='UPerHead', **cfg))
    prefixed = {f'decode_head.{k}': v for k, v in state.items()}
    hf = apply_rules(head_rules(model_cfg), prefixed, 'hf', 'benchmark')
    return {k[len('decode_head.'):]: v for k, v in hf.items()}


def build_heads(cfg: Dict, seed: int = 0) -> Dict[str, nn.Module]:
    """upernet_mm's, mmseg's and transformers' UPerNet heads with the same
    weights, in eval mode."""
    # local imports: transformers is an optional dependency
    # (requirements/optional.txt) that only the transformers rows need
    from transformers import UperNetConfig
    from transformers.models.upernet.modeling_upernet import UperNetHead

    torch.manual_seed(seed)
    ours = randomize(UPerHead(**cfg), seed)
    state = ours.state_dict()
    mmseg = MMSegUPerHead(**cfg)
    mmseg.load_state_dict(state, strict=True)
    config = UperNetConfig(
        hidden_size=cfg['channels'],
        pool_scales=list(cfg['pool_scales']),
        num_labels=cfg['num_classes'])
    hf = UperNetHead(config, in_channels=list(cfg['in_channels']))
    hf.load_state_dict(_hf_head_state(cfg, state), strict=True)
    return dict(
        upernet_mm=ours.eval(), mmseg=mmseg.eval(), transformers=hf.eval())


def convnext_model_cfg(arch: str = 'tiny',
                       channels: int = 512,
                       num_classes: int = 150) -> Dict:
    """``configs/_base_/models/upernet_convnext.py`` with plain BN, without
    drop path, for ConvNeXt ``arch``."""
    cfg = Config.fromfile(
        osp.join(REPO_CONFIGS, '_base_', 'models', 'upernet_convnext.py'))
    model = cfg.model.to_dict()
    widths = MM_ARCHS[arch][1]
    model['backbone'].update(arch=arch, drop_path_rate=0.0)
    model['decode_head'].update(
        in_channels=list(widths),
        channels=channels,
        num_classes=num_classes,
        norm_cfg=dict(type='BN', requires_grad=True))
    model['auxiliary_head'].update(
        in_channels=widths[2],
        channels=channels // 2,
        num_classes=num_classes,
        norm_cfg=dict(type='BN', requires_grad=True))
    return model


def with_mmseg_heads(model_cfg: Dict) -> Dict:
    """The same model config with mmseg's segmentor and heads."""
    cfg = copy.deepcopy(model_cfg)
    cfg['type'] = 'mmseg.EncoderDecoder'
    cfg['decode_head']['type'] = 'mmseg.UPerHead'
    cfg['auxiliary_head']['type'] = 'mmseg.FCNHead'
    return cfg


def build_segmentors(model_cfg: Dict, seed: int = 0) -> Dict[str, nn.Module]:
    """upernet_mm's and mmseg's segmentors of ``model_cfg`` with the same
    weights, in eval mode."""
    torch.manual_seed(seed)
    ours = randomize(build_segmentor(model_cfg), seed)
    mmseg = build_segmentor(with_mmseg_heads(model_cfg))
    mmseg.load_state_dict(ours.state_dict(), strict=True)
    return dict(upernet_mm=ours.eval(), mmseg=mmseg.eval())


def build_transformers(model_cfg: Dict, state: Dict) -> nn.Module:
    """transformers' ``UperNetForSemanticSegmentation`` with ``state``
    converted."""
    # a local import: transformers is an optional dependency
    from transformers import UperNetConfig, UperNetForSemanticSegmentation

    classes = [
        f'class{i}' for i in range(model_cfg['decode_head']['num_classes'])
    ]
    hf_cfg, _ = mm_to_hf_config(model_cfg, classes)
    model = UperNetForSemanticSegmentation(UperNetConfig(**hf_cfg))
    model.load_state_dict(
        mm_state_to_hf(model_cfg, state, 'benchmark'), strict=True)
    return model.eval()
