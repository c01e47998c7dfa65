"""transformers ``ConvNext`` <-> mmpretrain ``ConvNeXt`` (v1)."""
from typing import List

from mmpretrain.models.backbones.convnext import ConvNeXt

from .rules import (BackboneMapping, Rule, UnsupportedOptionError, expect,
                    expect_exact_gelu, hf_out_indices, rename_params,
                    signature_defaults, square_patch_size)

# the named architectures of mmpretrain's ConvNeXt: name -> (depths,
# channels)
MM_ARCHS = {
    name: (list(arch['depths']), list(arch['channels']))
    for name, arch in ConvNeXt.arch_settings.items()
}

# mmpretrain ConvNeXt defaults of the fields that matter here
MM_DEFAULTS = signature_defaults(ConvNeXt, [
    'arch', 'in_channels', 'stem_patch_size', 'norm_cfg', 'act_cfg',
    'linear_pw_conv', 'use_grn', 'drop_path_rate', 'layer_scale_init_value',
    'out_indices', 'gap_before_final_norm'
])


class ConvNextMapping(BackboneMapping):
    """transformers ``ConvNextBackbone`` <-> ``mmpretrain.ConvNeXt``.

    Both use LayerNorm with eps 1e-6 everywhere, linear point-wise convs and
    a per-channel layer scale; the weights correspond one to one.
    """
    hf_model_type = 'convnext'
    mm_types = ('ConvNeXt', )
    hf_defaults = dict(
        num_channels=3,
        patch_size=4,
        num_stages=4,
        hidden_sizes=[96, 192, 384, 768],
        depths=[3, 3, 9, 3],
        hidden_act='gelu',
        layer_norm_eps=1e-12,
        layer_scale_init_value=1e-6,
        drop_path_rate=0.0,
        image_size=224,
        out_features=None,
        out_indices=None)
    hf_trunk_prefix = ''
    hf_base_prefix = 'convnext.'
    mm_defaults = MM_DEFAULTS

    @staticmethod
    def _arch(mm_cfg, field='backbone'):
        arch = mm_cfg.get('arch', MM_DEFAULTS['arch'])
        if isinstance(arch, str):
            if arch not in MM_ARCHS:
                raise UnsupportedOptionError(
                    f'{field}.arch={arch!r} is not one of mmpretrain\'s '
                    f'ConvNeXt architectures {sorted(MM_ARCHS)}')
            depths, channels = MM_ARCHS[arch]
        else:
            depths, channels = arch['depths'], arch['channels']
        return list(depths), list(channels)

    def to_mm_config(self, hf_cfg, field):
        expect(hf_cfg['hidden_act'], ['gelu'], f'{field}.hidden_act',
               'mmpretrain ConvNeXt is configured with exact GELU here')
        depths, sizes = list(hf_cfg['depths']), list(hf_cfg['hidden_sizes'])
        if not (hf_cfg['num_stages'] == len(depths) == len(sizes)):
            raise UnsupportedOptionError(
                f'{field}: num_stages={hf_cfg["num_stages"]}, depths={depths} '
                f'and hidden_sizes={sizes} must agree in length')
        patch = square_patch_size(
            hf_cfg, field, 'mmpretrain ConvNeXt only has square stem '
            'patches (stem_patch_size)')
        arch = next((name for name, (d, c) in MM_ARCHS.items()
                     if d == depths and c == sizes),
                    dict(depths=depths, channels=sizes))
        scale = hf_cfg['layer_scale_init_value']
        return dict(
            type='mmpretrain.ConvNeXt',
            arch=arch,
            in_channels=hf_cfg['num_channels'],
            stem_patch_size=patch,
            out_indices=hf_out_indices(hf_cfg, field),
            drop_path_rate=hf_cfg['drop_path_rate'],
            layer_scale_init_value=scale if scale > 0 else 0.,
            gap_before_final_norm=False)

    def to_hf_config(self, mm_cfg, field):
        cfg = dict(MM_DEFAULTS, **mm_cfg)
        depths, channels = self._arch(cfg, field)
        norm = dict(cfg['norm_cfg'])
        expect(
            norm.get('type'), ['LN2d'], f'{field}.norm_cfg.type',
            'transformers ConvNext uses LayerNorm')
        expect(
            norm.get('eps', 1e-5), [1e-6], f'{field}.norm_cfg.eps',
            'transformers ConvNext fixes the LayerNorm eps to 1e-6')
        expect_exact_gelu(dict(cfg['act_cfg']), field, 'ConvNext')
        expect(cfg['linear_pw_conv'], [True], f'{field}.linear_pw_conv',
               'transformers ConvNext uses linear point-wise layers')
        expect(cfg['use_grn'], [False], f'{field}.use_grn',
               'GRN is ConvNeXt V2, not transformers ConvNext')
        expect(
            cfg['gap_before_final_norm'], [False],
            f'{field}.gap_before_final_norm',
            'a segmentation backbone must output feature maps, not '
            'pooled vectors')
        scale = cfg['layer_scale_init_value']
        return dict(
            model_type='convnext',
            num_channels=cfg['in_channels'],
            patch_size=cfg['stem_patch_size'],
            num_stages=len(depths),
            hidden_sizes=channels,
            depths=depths,
            hidden_act='gelu',
            layer_scale_init_value=scale if scale > 0 else 0.0,
            drop_path_rate=cfg['drop_path_rate'],
            out_features=self.hf_out_features(cfg, field))

    def num_stages(self, mm_cfg, field):
        return len(self._arch(mm_cfg, field)[0])

    def out_channels(self, mm_cfg) -> List[int]:
        _, channels = self._arch(mm_cfg)
        return [channels[i] for i in self.out_indices(mm_cfg, 'backbone')]

    def trunk_rules(self, mm_cfg, mm_prefix, hf_prefix) -> List[Rule]:
        depths, _ = self._arch(mm_cfg)
        scale = mm_cfg.get('layer_scale_init_value',
                           MM_DEFAULTS['layer_scale_init_value'])
        mm, hf = mm_prefix, hf_prefix
        rules = rename_params(f'{mm}downsample_layers.0.0',
                              f'{hf}embeddings.patch_embeddings')
        rules += rename_params(f'{mm}downsample_layers.0.1',
                               f'{hf}embeddings.layernorm')
        for i, depth in enumerate(depths):
            stage = f'{hf}encoder.stages.{i}'
            if i > 0:
                for k in (0, 1):
                    rules += rename_params(f'{mm}downsample_layers.{i}.{k}',
                                           f'{stage}.downsampling_layer.{k}')
            for j in range(depth):
                a, b = f'{mm}stages.{i}.{j}', f'{stage}.layers.{j}'
                rules += rename_params(f'{a}.depthwise_conv', f'{b}.dwconv')
                rules += rename_params(f'{a}.norm', f'{b}.layernorm')
                rules += rename_params(f'{a}.pointwise_conv1', f'{b}.pwconv1')
                rules += rename_params(f'{a}.pointwise_conv2', f'{b}.pwconv2')
                if scale > 0:
                    rules.append(
                        Rule((f'{a}.gamma', ),
                             (f'{b}.layer_scale_parameter', )))
        return rules
