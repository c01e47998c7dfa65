"""transformers UperNet <-> upernet_mm: identical logits and bitwise round
trips, for random-initialised models of every supported backbone."""
import dataclasses

import pytest
import torch

transformers = pytest.importorskip(
    'transformers', reason='the interop tests compare with transformers')

from helpers.hf import convert, hf_upernet, logits_pair  # noqa: E402
from upernet_mm.converters import hf_state_to_mm  # noqa: E402
from upernet_mm.converters import mm_state_to_hf  # noqa: E402

TOL = 1e-4
STAGES = ['stage1', 'stage2', 'stage3', 'stage4']


def convnext(sizes, depths, **kw):
    return transformers.ConvNextConfig(
        hidden_sizes=list(sizes),
        depths=list(depths),
        out_features=STAGES,
        **kw)


def swin(dim, depths, heads, window, **kw):
    kw.setdefault('out_features', STAGES)
    return transformers.SwinConfig(
        embed_dim=dim,
        depths=list(depths),
        num_heads=list(heads),
        window_size=window,
        **kw)


def resnet(stem, sizes, depths, **kw):
    kw.setdefault('out_features', STAGES)
    return transformers.ResNetConfig(
        embedding_size=stem,
        hidden_sizes=list(sizes),
        depths=list(depths),
        **kw)


# id -> (backbone config factory, input (H, W), UperNetConfig head options)
CASES = {
    'convnext-tiny':
    (lambda: convnext([96, 192, 384, 768], [3, 3, 9, 3]), (64, 96),
     dict(hidden_size=32, auxiliary_channels=16, num_labels=150)),
    'convnext-small-widths':
    (lambda: convnext([8, 16, 32, 64], [1, 1, 2, 1]), (96, 64),
     dict(hidden_size=16, auxiliary_channels=8, num_labels=19)),
    'convnext-no-aux-no-layer-scale':
    (lambda: convnext([8, 16, 24, 32], [2, 1, 1, 1],
                      layer_scale_init_value=0.0,
                      patch_size=2), (40, 72),
     dict(
         hidden_size=16,
         use_auxiliary_head=False,
         num_labels=3,
         pool_scales=[1, 3])),
    'swin-tiny-window7':
    (lambda: swin(96, [2, 2, 6, 2], [3, 6, 12, 24], 7), (64, 96),
     dict(hidden_size=32, auxiliary_channels=16, num_labels=150)),
    'swin-window5-concat-input':
    (lambda: swin(16, [2, 2, 2, 2], [1, 2, 2, 4], 5), (70, 100),
     dict(
         hidden_size=16,
         auxiliary_channels=16,
         auxiliary_num_convs=2,
         auxiliary_concat_input=True,
         num_labels=19,
         pool_scales=[2, 4])),
    'swin-window3-abs-pos-no-qkv-bias': (lambda: swin(
        8, [2, 2, 2, 2], [1, 2, 2, 4],
        3,
        qkv_bias=False,
        use_absolute_embeddings=True,
        image_size=[48, 80]), (48, 80),
                                         dict(
                                             hidden_size=16,
                                             use_auxiliary_head=False,
                                             num_labels=4,
                                             pool_scales=[1, 2, 3, 6, 8])),
    'resnet50-layout': (lambda: resnet(8, [32, 64, 128, 256], [3, 4, 6, 3]),
                        (64, 96),
                        dict(
                            hidden_size=16,
                            auxiliary_channels=8,
                            auxiliary_concat_input=True,
                            num_labels=150)),
    'resnet18-layout-3-stages-out': (lambda: resnet(
        8, [8, 16, 32, 64], [2, 2, 2, 2],
        layer_type='basic',
        downsample_in_first_stage=True,
        out_features=['stage2', 'stage3', 'stage4']), (96, 64),
                                     dict(
                                         hidden_size=16,
                                         auxiliary_channels=64,
                                         auxiliary_num_convs=0,
                                         auxiliary_in_channels=64,
                                         num_labels=19)),
    'resnet50-caffe-style':
    (lambda:
     resnet(8, [16, 32, 64, 128], [3, 4, 6, 3], downsample_in_bottleneck=True),
     (72, 40), dict(hidden_size=8, auxiliary_channels=8, num_labels=5)),
}


@pytest.mark.parametrize('case', list(CASES))
def test_logits_match_transformers(case):
    backbone, (h, w), head = CASES[case]
    hf = hf_upernet(backbone(), **head)
    _, _, mm = convert(hf)
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(1))
    hf_logits, mm_logits, aux = logits_pair(hf, mm, x)
    assert hf_logits.shape == mm_logits.shape == (2, head['num_labels'], h, w)
    diff = (hf_logits - mm_logits).abs().max().item()
    print(f'\n{case}: max |logit diff| {diff:.2e} (logits up to '
          f'{hf_logits.abs().max().item():.2f})')
    # a real comparison: logits vary, the models are not trivial
    assert hf_logits.std() > 0.05
    torch.testing.assert_close(mm_logits, hf_logits, atol=TOL, rtol=0)
    if head.get('use_auxiliary_head', True):
        assert aux[0].shape == aux[1].shape
        torch.testing.assert_close(aux[1], aux[0], atol=TOL, rtol=0)
    else:
        assert aux is None and not mm.with_auxiliary_head


@pytest.mark.parametrize('case', [
    'convnext-small-widths', 'swin-window5-concat-input',
    'swin-window3-abs-pos-no-qkv-bias', 'resnet50-caffe-style',
    'resnet18-layout-3-stages-out'
])
def test_round_trips_are_bitwise(case):
    backbone, _, head = CASES[case]
    hf = hf_upernet(backbone(), **head)
    model_cfg, _, mm = convert(hf)
    mm_state = mm.state_dict()

    # mm -> HF -> mm: every tensor (buffers included) bitwise equal
    hf_state = mm_state_to_hf(model_cfg, mm_state, 'mm')
    back = hf_state_to_mm(model_cfg, hf_state, 'hf')
    assert set(back) == set(mm_state)
    for key, value in mm_state.items():
        assert back[key].dtype == value.dtype, key
        assert torch.equal(back[key], value), key

    # HF -> mm -> HF: the same keys as transformers, bitwise equal but for
    # SwinModel's final LayerNorm, which the backbone never applies
    original = hf.state_dict()
    assert set(hf_state) == set(original)
    unused = {k for k in original if k.startswith('backbone.swin.layernorm')}
    for key, value in original.items():
        if key not in unused:
            assert torch.equal(hf_state[key], value), key


def test_converted_model_is_not_trivially_equal():
    """The parity test can fail: a swapped pair of weights changes the
    logits far beyond the tolerance."""
    backbone, (h, w), head = CASES['swin-window5-concat-input']
    hf = hf_upernet(backbone(), **head)
    model_cfg, state, mm = convert(hf)
    key = 'backbone.stages.1.downsample.norm.weight'
    state = dict(state)
    state[key] = state[key].flip(0)
    mm.load_state_dict(state)
    x = torch.randn(1, 3, h, w)
    hf_logits, mm_logits, _ = logits_pair(hf, mm, x)
    assert (hf_logits - mm_logits).abs().max() > 100 * TOL


def test_legacy_transformers_swin_layout_converts_the_same():
    """transformers 4.x UperNet-Swin checkpoints (query/key/value,
    intermediate/output.dense, the trunk directly under backbone.) give
    the same mm weights."""
    backbone, _, head = CASES['swin-window5-concat-input']
    hf = hf_upernet(backbone(), **head)
    model_cfg, state, _ = convert(hf)
    renames = [('attention.q_proj.', 'attention.self.query.'),
               ('attention.k_proj.', 'attention.self.key.'),
               ('attention.v_proj.', 'attention.self.value.'),
               ('attention.relative_position_bias.relative_position_bias_'
                'table', 'attention.self.relative_position_bias_table'),
               ('attention.o_proj.', 'attention.output.dense.'),
               ('mlp.fc1.', 'intermediate.dense.'),
               ('mlp.fc2.', 'output.dense.'), ('backbone.swin.', 'backbone.')]
    legacy = {}
    for key, value in hf.state_dict().items():
        if key.startswith('backbone.swin.layernorm'):
            continue  # the 4.x backbone had no final norm
        for new, old in renames:
            key = key.replace(new, old)
        legacy[key] = value
        if key.endswith('relative_position_bias_table'):
            # 4.x saved the index buffer, which is recomputed
            legacy[key.replace('bias_table', 'index')] = torch.zeros(1)
    assert 'backbone.encoder.layers.0.blocks.0.attention.self.query.weight' \
        in legacy
    converted = hf_state_to_mm(model_cfg, legacy, 'legacy')
    assert set(converted) == set(state)
    for key, value in state.items():
        assert torch.equal(converted[key], value), key


def _field_defaults(cls):
    out = {}
    for field in dataclasses.fields(cls):
        value = field.default
        if isinstance(value, tuple):
            value = list(value)
        out[field.name.lstrip('_')] = value
    return out


@pytest.mark.parametrize(
    'name', ['ConvNextConfig', 'SwinConfig', 'ResNetConfig', 'UperNetConfig'])
def test_defaults_match_installed_transformers(name):
    """config.json may omit default fields; the converter's defaults must be
    those of the installed transformers."""
    from upernet_mm.converters import BACKBONES
    from upernet_mm.converters.uper_head import HF_DEFAULTS
    model_types = dict(
        ConvNextConfig='convnext', SwinConfig='swin', ResNetConfig='resnet')
    ours = HF_DEFAULTS if name == 'UperNetConfig' else next(
        m.hf_defaults for m in BACKBONES
        if m.hf_model_type == model_types[name])
    theirs = _field_defaults(getattr(transformers, name))
    for key, value in ours.items():
        if key in ('out_features', 'out_indices'):
            continue  # BackboneConfigMixin's, read by hf_out_indices
        assert key in theirs, f'{name} has no field {key}'
        assert theirs[key] == value, f'{name}.{key}'
