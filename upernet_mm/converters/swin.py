"""transformers ``Swin`` <-> mmseg ``SwinTransformer``.

Two layouts differ beyond names:

* attention: transformers has separate ``q_proj``/``k_proj``/``v_proj``;
  mmseg one ``qkv`` linear whose output is ``[q; k; v]``, each with the
  heads in the same order, so the weights are concatenated on dim 0;
* patch merging: transformers concatenates the four 2x2 neighbours as
  ``[x(0,0), x(1,0), x(0,1), x(1,1)]`` (row offset first) times ``C``
  channels, mmseg's ``nn.Unfold`` orders the ``4C`` inputs channel-major
  with the neighbours ``(0,0), (0,1), (1,0), (1,1)`` inside, so the
  reduction's input columns and the norm are permuted.
"""
import re
from typing import List

import torch
from mmseg.models.backbones import SwinTransformer

from .rules import (BackboneMapping, CheckpointMismatchError, Rule,
                    UnsupportedOptionError, expect, expect_exact_gelu,
                    hf_out_indices, rename_params, signature_defaults,
                    square_patch_size)

# mmseg SwinTransformer defaults of the fields that matter here
MM_DEFAULTS = signature_defaults(SwinTransformer, [
    'pretrain_img_size',
    'in_channels',
    'embed_dims',
    'patch_size',
    'window_size',
    'mlp_ratio',
    'depths',
    'num_heads',
    'strides',
    'out_indices',
    'qkv_bias',
    'qk_scale',
    'patch_norm',
    'drop_rate',
    'attn_drop_rate',
    'drop_path_rate',
    'use_abs_pos_embed',
    'act_cfg',
    'norm_cfg',
])

# Older transformers checkpoints (4.x), renamed as transformers 5 does.
_LEGACY_RENAMES = [
    ('attention.self.query.', 'attention.q_proj.'),
    ('attention.self.key.', 'attention.k_proj.'),
    ('attention.self.value.', 'attention.v_proj.'),
    ('attention.self.relative_position_bias_table',
     'attention.relative_position_bias.relative_position_bias_table'),
    ('attention.output.dense.', 'attention.o_proj.'),
    ('intermediate.dense.', 'mlp.fc1.'),
    ('output.dense.', 'mlp.fc2.'),
]

# mmseg's nn.Unfold order (dh, dw) = (0,0), (0,1), (1,0), (1,1) picks these
# entries of the transformers order (0,0), (1,0), (0,1), (1,1); the
# permutation is its own inverse.
_MERGE_ORDER = [0, 2, 1, 3]


def relative_position_index(window_size: int) -> torch.Tensor:
    """The ``relative_position_index`` buffer of mmseg's ``WindowMSA``."""
    seq1 = torch.arange(0, (2 * window_size - 1) * window_size,
                        2 * window_size - 1)
    seq2 = torch.arange(0, window_size)
    coords = (seq1[:, None] + seq2[None, :]).reshape(1, -1)
    return (coords + coords.T).flip(1).contiguous()


def _merge_weight(weight: torch.Tensor) -> torch.Tensor:
    """Permute the ``4C`` input columns of a patch-merging reduction
    between the two layouts (either direction)."""
    out_channels, in_channels = weight.shape
    if in_channels % 4:
        raise CheckpointMismatchError(
            f'patch merging reduction weight of shape {tuple(weight.shape)} '
            'has input channels not divisible by 4')
    x = weight.reshape(out_channels, 4, in_channels // 4)[:, _MERGE_ORDER]
    return x.transpose(1, 2).reshape(out_channels, in_channels).contiguous()


def _merge_weight_to_hf(weight: torch.Tensor) -> torch.Tensor:
    out_channels, in_channels = weight.shape
    x = weight.reshape(out_channels, in_channels // 4, 4).transpose(1, 2)
    return x[:, _MERGE_ORDER].reshape(out_channels, in_channels).contiguous()


def _merge_norm(vector: torch.Tensor) -> torch.Tensor:
    return _merge_weight(vector[None])[0]


def _merge_norm_to_hf(vector: torch.Tensor) -> torch.Tensor:
    return _merge_weight_to_hf(vector[None])[0]


def _qkv_to_mm(q, k, v):
    return (torch.cat([q, k, v], dim=0), )


def _qkv_to_hf(qkv):
    return tuple(t.clone() for t in qkv.chunk(3, dim=0))


class SwinMapping(BackboneMapping):
    """transformers ``SwinBackbone`` <-> mmseg ``SwinTransformer``, any
    depth, width, heads and window size."""
    hf_model_type = 'swin'
    mm_types = ('SwinTransformer', )
    hf_defaults = dict(
        image_size=224,
        patch_size=4,
        num_channels=3,
        embed_dim=96,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        window_size=7,
        mlp_ratio=4.0,
        qkv_bias=True,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        drop_path_rate=0.1,
        hidden_act='gelu',
        use_absolute_embeddings=False,
        layer_norm_eps=1e-5,
        encoder_stride=32,
        out_features=None,
        out_indices=None)
    hf_trunk_prefix = 'swin.'
    hf_base_prefix = 'swin.'
    mm_defaults = MM_DEFAULTS

    def to_mm_config(self, hf_cfg, field):
        expect(hf_cfg['hidden_act'], ['gelu'], f'{field}.hidden_act',
               'mmseg SwinTransformer is configured with exact GELU here')
        expect(
            hf_cfg['layer_norm_eps'], [1e-5], f'{field}.layer_norm_eps',
            'transformers applies it to the blocks only, while mmseg\'s '
            'norm_cfg sets one eps for all LayerNorms and transformers '
            'fixes the others to 1e-5')
        depths, heads = list(hf_cfg['depths']), list(hf_cfg['num_heads'])
        if len(depths) != len(heads):
            raise UnsupportedOptionError(
                f'{field}: depths={depths} and num_heads={heads} differ in '
                'length')
        patch = square_patch_size(
            hf_cfg, field, 'only square patches map to mmseg SwinTransformer')
        image_size = hf_cfg['image_size']
        if isinstance(image_size, (list, tuple)):
            image_size = tuple(image_size)
        return dict(
            type='SwinTransformer',
            pretrain_img_size=image_size,
            in_channels=hf_cfg['num_channels'],
            embed_dims=hf_cfg['embed_dim'],
            patch_size=patch,
            window_size=hf_cfg['window_size'],
            mlp_ratio=hf_cfg['mlp_ratio'],
            depths=depths,
            num_heads=heads,
            strides=[patch] + [2] * (len(depths) - 1),
            out_indices=hf_out_indices(hf_cfg, field),
            qkv_bias=hf_cfg['qkv_bias'],
            qk_scale=None,
            patch_norm=True,
            drop_rate=hf_cfg['hidden_dropout_prob'],
            attn_drop_rate=hf_cfg['attention_probs_dropout_prob'],
            drop_path_rate=hf_cfg['drop_path_rate'],
            use_abs_pos_embed=hf_cfg['use_absolute_embeddings'],
            act_cfg=dict(type='GELU'),
            norm_cfg=dict(type='LN', requires_grad=True))

    def to_hf_config(self, mm_cfg, field):
        cfg = dict(MM_DEFAULTS, **mm_cfg)
        depths = list(cfg['depths'])
        patch = cfg['patch_size']
        expect(
            list(cfg['strides']), [[patch] + [2] * (len(depths) - 1)],
            f'{field}.strides',
            'transformers Swin embeds patches with stride patch_size and '
            'halves the resolution at every patch merging')
        expect(
            cfg['patch_norm'], [True], f'{field}.patch_norm',
            'transformers Swin always normalises patch embeddings and '
            'merged patches')
        expect(cfg['qk_scale'], [None], f'{field}.qk_scale',
               'transformers Swin scales attention by head_dim ** -0.5')
        expect_exact_gelu(dict(cfg['act_cfg']), field, 'Swin')
        norm = dict(cfg['norm_cfg'])
        expect(
            norm.get('type'), ['LN'], f'{field}.norm_cfg.type',
            'transformers Swin uses LayerNorm')
        expect(
            norm.get('eps', 1e-5), [1e-5], f'{field}.norm_cfg.eps',
            'transformers Swin fixes the eps of the embedding, merging '
            'and output LayerNorms to 1e-5')
        image_size = cfg['pretrain_img_size']
        if isinstance(image_size, (list, tuple)):
            image_size = list(image_size) if len(image_size) == 2 else \
                image_size[0]
        return dict(
            model_type='swin',
            image_size=image_size,
            patch_size=patch,
            num_channels=cfg['in_channels'],
            embed_dim=cfg['embed_dims'],
            depths=depths,
            num_heads=list(cfg['num_heads']),
            window_size=cfg['window_size'],
            mlp_ratio=float(cfg['mlp_ratio']),
            qkv_bias=cfg['qkv_bias'],
            hidden_dropout_prob=cfg['drop_rate'],
            attention_probs_dropout_prob=cfg['attn_drop_rate'],
            drop_path_rate=cfg['drop_path_rate'],
            hidden_act='gelu',
            use_absolute_embeddings=cfg['use_abs_pos_embed'],
            layer_norm_eps=1e-5,
            out_features=self.hf_out_features(cfg, field))

    def num_stages(self, mm_cfg, field):
        return len(mm_cfg.get('depths', MM_DEFAULTS['depths']))

    def out_channels(self, mm_cfg) -> List[int]:
        dims = mm_cfg.get('embed_dims', MM_DEFAULTS['embed_dims'])
        return [dims * 2**i for i in self.out_indices(mm_cfg, 'backbone')]

    def trunk_rules(self, mm_cfg, mm_prefix, hf_prefix) -> List[Rule]:
        cfg = dict(MM_DEFAULTS, **mm_cfg)
        mm, hf = mm_prefix, hf_prefix
        depths, window = list(cfg['depths']), cfg['window_size']
        rules = rename_params(f'{mm}patch_embed.projection',
                              f'{hf}embeddings.patch_embeddings.projection')
        rules += rename_params(f'{mm}patch_embed.norm', f'{hf}embeddings.norm')
        if cfg['use_abs_pos_embed']:
            rules.append(
                Rule((f'{mm}absolute_pos_embed', ),
                     (f'{hf}embeddings.position_embeddings', )))
        index = relative_position_index(window)
        for i, depth in enumerate(depths):
            for j in range(depth):
                a = f'{mm}stages.{i}.blocks.{j}'
                b = f'{hf}encoder.layers.{i}.blocks.{j}'
                rules += rename_params(f'{a}.norm1', f'{b}.layernorm_before')
                names = ('weight', 'bias') if cfg['qkv_bias'] else ('weight', )
                for n in names:
                    rules.append(
                        Rule((f'{a}.attn.w_msa.qkv.{n}', ),
                             tuple(f'{b}.attention.{p}_proj.{n}'
                                   for p in 'qkv'), _qkv_to_mm, _qkv_to_hf))
                rules += rename_params(f'{a}.attn.w_msa.proj',
                                       f'{b}.attention.o_proj')
                rules.append(
                    Rule((f'{a}.attn.w_msa.relative_position_bias_table', ),
                         (f'{b}.attention.relative_position_bias.'
                          'relative_position_bias_table', )))
                rules.append(
                    _index_rule(f'{a}.attn.w_msa.relative_position_index',
                                index))
                rules += rename_params(f'{a}.norm2', f'{b}.layernorm_after')
                rules += rename_params(f'{a}.ffn.layers.0.0', f'{b}.mlp.fc1')
                rules += rename_params(f'{a}.ffn.layers.1', f'{b}.mlp.fc2')
            if i < len(depths) - 1:
                a = f'{mm}stages.{i}.downsample'
                b = f'{hf}encoder.layers.{i}.downsample'
                rules.append(
                    Rule((f'{a}.reduction.weight', ),
                         (f'{b}.reduction.weight', ), lambda w:
                         (_merge_weight(w), ), lambda w:
                         (_merge_weight_to_hf(w), )))
                for n in ('weight', 'bias'):
                    rules.append(
                        Rule((f'{a}.norm.{n}', ), (f'{b}.norm.{n}', ),
                             lambda v: (_merge_norm(v), ), lambda v:
                             (_merge_norm_to_hf(v), )))
        # SwinModel's final LayerNorm, which the backbone never applies
        last = cfg['embed_dims'] * 2**(len(depths) - 1)
        rules.append(
            Rule((), (f'{hf}layernorm.weight', f'{hf}layernorm.bias'),
                 to_mm=lambda w, b: (),
                 to_hf=lambda: (torch.ones(last), torch.zeros(last)),
                 hf_optional=True))
        return rules

    def normalize_hf_state(self, state, hf_prefix):
        out = {}
        for key, value in state.items():
            if key.startswith(hf_prefix):
                rest = key[len(hf_prefix):]
                # transformers 4.x SwinBackbone held the trunk directly
                if hf_prefix.endswith('backbone.') and re.match(
                        r'(embeddings|encoder|layernorm)\.', rest):
                    rest = self.hf_trunk_prefix + rest
                for old, new in _LEGACY_RENAMES:
                    rest = rest.replace(old, new)
                key = hf_prefix + rest
            out[key] = value
        return out

    def hf_ignorable(self, key):
        # buffers transformers recomputes from window_size (4.x saved them)
        return key.endswith('relative_position_index')


def _index_rule(mm_key: str, index: torch.Tensor) -> Rule:
    """mmseg saves ``relative_position_index``; transformers recomputes it.
    Generated when converting to mm, checked and dropped the other way."""

    def to_hf(value):
        if value.shape != index.shape or not torch.equal(
                value.to(index.dtype), index):
            raise CheckpointMismatchError(
                f'{mm_key} differs from the index of window size '
                f'{int(index.shape[0] ** 0.5)} in the config')
        return ()

    return Rule((mm_key, ), (), to_mm=lambda: (index.clone(), ), to_hf=to_hf)
