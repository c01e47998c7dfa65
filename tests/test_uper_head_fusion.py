"""UPerHead(fusion=False): the finest FPN level alone feeds fpn_bottleneck
(the paper's "FPN" and "FPN+PPM" rows); parameter names are unchanged."""
import pytest
import torch

from upernet_mm.models.decode_heads.uper_head import UPerHead

CHANNELS = [8, 16, 32, 64]


def _feats(n=2, size=32):
    return [
        torch.randn(n, c, size // 2**i, size // 2**i)
        for i, c in enumerate(CHANNELS)
    ]


def _head(**kwargs):
    return UPerHead(
        in_channels=CHANNELS,
        in_index=[0, 1, 2, 3],
        channels=16,
        num_classes=5,
        **kwargs).eval()


def test_no_fusion_keeps_names_and_uses_the_finest_level_alone():
    # every parameter gets a gradient (DDP needs no unused parameters)
    alone = _head(fusion=False).train()
    alone(_feats()).sum().backward()
    assert all(p.grad is not None for p in alone.parameters())
    fused, alone = _head(), _head(fusion=False)
    names = [n for n, _ in fused.named_parameters()]
    # fused names, less the fpn_convs of the levels that are not used
    assert [n for n, _ in alone.named_parameters()] == [
        n for n in names if not n.startswith(('fpn_convs.1.', 'fpn_convs.2.'))
    ]
    assert fused.fpn_bottleneck.conv.in_channels == 4 * 16
    assert alone.fpn_bottleneck.conv.in_channels == 16
    feats = _feats()
    assert alone(feats).shape == fused(feats).shape == (2, 5, 32, 32)
    # the coarser levels reach the output only through the top-down sum:
    # the finest level's fpn_conv output is all fpn_bottleneck sees
    seen = {}
    alone.fpn_bottleneck.register_forward_hook(
        lambda m, args, out: seen.setdefault('x', args[0]))
    with torch.no_grad():
        alone(feats)
        laterals = [conv(f) for conv, f in zip(alone.lateral_convs, feats)]
        top = alone.psp_forward(feats[3])
        for i in (2, 1, 0):
            top = laterals[i] + alone._upsample(top, laterals[i].shape[2:])
        expected = alone.fpn_convs[0](top)
    torch.testing.assert_close(seen['x'], expected)


def test_no_fusion_with_one_level_is_ppm_alone():
    head = UPerHead(
        in_channels=[64],
        in_index=[3],
        channels=16,
        num_classes=5,
        fusion=False).eval()
    assert len(head.lateral_convs) == 0
    assert head(_feats()).shape == (2, 5, 4, 4)


def test_fusion_must_be_a_bool():
    with pytest.raises(ValueError, match='fusion must be True or False'):
        _head(fusion='no')


def test_to_hf_refuses_a_head_without_fusion():
    from upernet_mm.converters.rules import UnsupportedOptionError
    from upernet_mm.converters.uper_head import heads_to_hf
    decode = dict(
        type='UPerHead',
        in_channels=CHANNELS,
        in_index=[0, 1, 2, 3],
        channels=16,
        num_classes=5,
        norm_cfg=dict(type='BN'))
    hf, num_classes, _ = heads_to_hf(
        dict(decode_head=decode, auxiliary_head=None), CHANNELS)
    assert num_classes == 5 and hf['hidden_size'] == 16
    with pytest.raises(
            UnsupportedOptionError, match=r'model\.decode_head\.fusion'):
        heads_to_hf(
            dict(decode_head=dict(decode, fusion=False), auxiliary_head=None),
            CHANNELS)
