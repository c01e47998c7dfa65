"""transformers ``ResNet`` <-> mmseg ``ResNet`` (the original v1 stem).

transformers' ResNet has a single 7x7 stem convolution, no dilation and the
stride of a bottleneck on its 3x3 convolution (``downsample_in_bottleneck=
False``, mmseg ``style='pytorch'``) or on its first 1x1 convolution
(``True``, ``style='caffe'``). So it maps exactly to mmseg's ``ResNet`` with
``deep_stem=False`` and ``avg_down=False``, not to ``ResNetV1c``/``V1d``
(three 3x3 stem convolutions) used by the published UPerNet recipes.
"""
from typing import List

from mmseg.models.backbones import ResNet
from mmseg.models.backbones.resnet import BasicBlock

from .rules import (BN_NAMES, BackboneMapping, Rule, UnsupportedOptionError,
                    expect, expect_batchnorm, hf_out_indices, rename_params,
                    signature_defaults)

# mmseg ResNet.arch_settings: depth -> (block, blocks per stage)
MM_ARCHS = {
    depth:
    ('basic' if issubclass(block, BasicBlock) else 'bottleneck', tuple(stages))
    for depth, (block, stages) in ResNet.arch_settings.items()
}
_EXPANSION = {'basic': 1, 'bottleneck': 4}


def _conv_bn_rules(mm_conv: str, mm_bn: str, hf_layer: str) -> List[Rule]:
    """A bias-free convolution and its BatchNorm: two modules in mmseg, one
    ``ResNetConvLayer`` (``convolution``, ``normalization``) in
    transformers."""
    return (rename_params(mm_conv, f'{hf_layer}.convolution', ('weight', )) +
            rename_params(mm_bn, f'{hf_layer}.normalization', BN_NAMES))


# mmseg ResNet defaults of the fields that matter here
MM_DEFAULTS = signature_defaults(ResNet, [
    'in_channels',
    'stem_channels',
    'base_channels',
    'num_stages',
    'strides',
    'dilations',
    'out_indices',
    'style',
    'deep_stem',
    'avg_down',
    'conv_cfg',
    'norm_cfg',
    'dcn',
    'plugins',
    'multi_grid',
])

_REFUSED_TYPES = {
    'ResNetV1c':
    'its deep stem (three 3x3 convolutions) has no '
    'counterpart in transformers ResNet, whose stem is one 7x7 convolution',
    'ResNetV1d':
    'its deep stem (three 3x3 convolutions) and average-pool '
    'shortcuts have no counterpart in transformers ResNet',
}


def refused_reason(mm_type: str):
    """Why an mmseg ResNet variant does not map, or None if it does."""
    return _REFUSED_TYPES.get(mm_type)


class ResNetMapping(BackboneMapping):
    """transformers ``ResNetBackbone`` <-> mmseg ``ResNet`` (v1 stem)."""
    hf_model_type = 'resnet'
    mm_types = ('ResNet', )
    hf_defaults = dict(
        num_channels=3,
        embedding_size=64,
        hidden_sizes=[256, 512, 1024, 2048],
        depths=[3, 4, 6, 3],
        layer_type='bottleneck',
        hidden_act='relu',
        downsample_in_first_stage=False,
        downsample_in_bottleneck=False,
        out_features=None,
        out_indices=None)
    hf_trunk_prefix = ''
    hf_base_prefix = 'resnet.'
    mm_defaults = MM_DEFAULTS
    has_out_norms = False

    def to_mm_config(self, hf_cfg, field):
        expect(hf_cfg['hidden_act'], ['relu'], f'{field}.hidden_act',
               'mmseg ResNet uses ReLU')
        layer_type = hf_cfg['layer_type']
        expect(layer_type, ['basic', 'bottleneck'], f'{field}.layer_type',
               'mmseg ResNet has basic and bottleneck blocks')
        depths, sizes = list(hf_cfg['depths']), list(hf_cfg['hidden_sizes'])
        num_stages = len(depths)
        if not 1 <= num_stages <= 4 or len(sizes) != num_stages:
            raise UnsupportedOptionError(
                f'{field}: depths={depths} and hidden_sizes={sizes} must '
                'have the same length, 1 to 4 (mmseg ResNet num_stages)')
        depth = next(
            (d for d, (block, blocks) in sorted(MM_ARCHS.items())
             if block == layer_type and list(blocks[:num_stages]) == depths),
            None)
        if depth is None:
            known = {
                d: list(b[:num_stages])
                for d, (t, b) in MM_ARCHS.items() if t == layer_type
            }
            raise UnsupportedOptionError(
                f'{field}.depths={depths} is not the block count of a '
                f'{layer_type} mmseg ResNet depth (those are {known}); mmseg '
                'ResNet only builds its standard depths')
        expansion = _EXPANSION[layer_type]
        base = sizes[0] // expansion
        expected = [base * 2**i * expansion for i in range(num_stages)]
        if sizes[0] % expansion or sizes != expected:
            raise UnsupportedOptionError(
                f'{field}.hidden_sizes={sizes}: mmseg ResNet doubles the '
                f'width at every stage from base_channels, which would give '
                f'{expected}')
        caffe = layer_type == 'bottleneck' and \
            hf_cfg['downsample_in_bottleneck']
        first_stride = 2 if hf_cfg['downsample_in_first_stage'] else 1
        return dict(
            type='ResNet',
            depth=depth,
            in_channels=hf_cfg['num_channels'],
            stem_channels=hf_cfg['embedding_size'],
            base_channels=base,
            num_stages=num_stages,
            strides=[first_stride] + [2] * (num_stages - 1),
            dilations=[1] * num_stages,
            out_indices=hf_out_indices(hf_cfg, field),
            style='caffe' if caffe else 'pytorch',
            deep_stem=False,
            avg_down=False,
            norm_cfg=dict(type='SyncBN', requires_grad=True),
            norm_eval=False,
            contract_dilation=False)

    def _arch(self, mm_cfg, field='backbone'):
        depth = mm_cfg.get('depth')
        if depth not in MM_ARCHS:
            raise UnsupportedOptionError(
                f'{field}.depth={depth!r} is not one of mmseg ResNet\'s '
                f'depths {sorted(MM_ARCHS)}')
        block, blocks = MM_ARCHS[depth]
        num_stages = mm_cfg.get('num_stages', MM_DEFAULTS['num_stages'])
        return block, list(blocks[:num_stages])

    def to_hf_config(self, mm_cfg, field):
        cfg = dict(MM_DEFAULTS, **mm_cfg)
        block, blocks = self._arch(cfg, field)
        n = len(blocks)
        for name in ('deep_stem', 'avg_down'):
            expect(
                cfg[name], [False], f'{field}.{name}',
                'transformers ResNet has a single 7x7 stem convolution '
                'and convolution shortcuts')
        for name in ('dcn', 'plugins', 'multi_grid', 'conv_cfg'):
            expect(cfg[name], [None], f'{field}.{name}',
                   'transformers ResNet has plain convolutions')
        expect(
            list(cfg['dilations'])[:n], [[1] * n], f'{field}.dilations',
            'transformers ResNet has no dilated convolutions')
        strides = list(cfg['strides'])[:n]
        expect(
            strides, [[s] + [2] * (n - 1) for s in (1, 2)], f'{field}.strides',
            'transformers ResNet strides 2 at every stage but the first, '
            'where downsample_in_first_stage chooses 1 or 2')
        style = cfg['style']
        expect(style, ['pytorch', 'caffe'], f'{field}.style',
               'mmseg ResNet has these two styles')
        norm = dict(cfg['norm_cfg'])
        expect_batchnorm(norm, field, 'ResNet')
        expansion = _EXPANSION[block]
        base = cfg['base_channels']
        return dict(
            model_type='resnet',
            num_channels=cfg['in_channels'],
            embedding_size=cfg['stem_channels'],
            hidden_sizes=[base * 2**i * expansion for i in range(n)],
            depths=blocks,
            layer_type=block,
            hidden_act='relu',
            downsample_in_first_stage=strides[0] == 2,
            downsample_in_bottleneck=block == 'bottleneck'
            and style == 'caffe',
            out_features=self.hf_out_features(cfg, field))

    def num_stages(self, mm_cfg, field):
        return len(self._arch(mm_cfg, field)[1])

    def out_channels(self, mm_cfg) -> List[int]:
        block, _ = self._arch(mm_cfg)
        base = mm_cfg.get('base_channels', MM_DEFAULTS['base_channels'])
        return [
            base * 2**i * _EXPANSION[block]
            for i in self.out_indices(mm_cfg, 'backbone')
        ]

    def trunk_rules(self, mm_cfg, mm_prefix, hf_prefix) -> List[Rule]:
        cfg = dict(MM_DEFAULTS, **mm_cfg)
        block, blocks = self._arch(cfg)
        expansion = _EXPANSION[block]
        mm, hf = mm_prefix, hf_prefix
        rules = _conv_bn_rules(f'{mm}conv1', f'{mm}bn1',
                               f'{hf}embedder.embedder')
        in_channels = cfg['stem_channels']
        num_convs = 2 if block == 'basic' else 3
        for i, num_blocks in enumerate(blocks):
            out_channels = cfg['base_channels'] * 2**i * expansion
            stride = cfg['strides'][i]
            for j in range(num_blocks):
                a = f'{mm}layer{i + 1}.{j}'
                b = f'{hf}encoder.stages.{i}.layers.{j}'
                for k in range(num_convs):
                    rules += _conv_bn_rules(f'{a}.conv{k + 1}',
                                            f'{a}.bn{k + 1}', f'{b}.layer.{k}')
                if j == 0 and (stride != 1 or in_channels != out_channels):
                    rules += _conv_bn_rules(f'{a}.downsample.0',
                                            f'{a}.downsample.1',
                                            f'{b}.shortcut')
                in_channels = out_channels
        return rules
