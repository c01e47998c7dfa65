"""Property test of UPerHead over random configurations (hypothesis):
1-5 levels selected from up to 5 feature maps, random channels, pool
scales, align_corners and odd input sizes. The output has the finest
selected level's size, holds no NaN and equals mmseg's UPerHead."""
import os

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mmseg.models.decode_heads import UPerHead as MMSegUPerHead

from upernet_mm.benchmark.candidates import randomize
from upernet_mm.models import UPerHead

# Deterministic examples in CI, fresh ones on a developer's machine.
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get('CI')))


@st.composite
def head_configs(draw):
    num_maps = draw(st.integers(1, 5))
    num_levels = draw(st.integers(1, num_maps))
    in_index = sorted(
        draw(
            st.lists(
                st.integers(0, num_maps - 1),
                min_size=num_levels,
                max_size=num_levels,
                unique=True)))
    map_channels = draw(
        st.lists(st.integers(1, 12), min_size=num_maps, max_size=num_maps))
    first_stride = draw(st.sampled_from([1, 2, 4]))
    odd = st.integers(4, 20).map(lambda k: 2 * k + 1)  # 9..41
    return dict(
        in_index=in_index,
        map_channels=map_channels,
        strides=[first_stride * 2**i for i in range(num_maps)],
        size=(draw(odd), draw(odd)),
        batch=draw(st.integers(1, 2)),
        channels=draw(st.integers(1, 12)),
        num_classes=draw(st.integers(1, 6)),
        pool_scales=tuple(
            draw(
                st.lists(
                    st.integers(1, 6), min_size=1, max_size=4, unique=True))),
        align_corners=draw(st.booleans()),
        norm=draw(st.sampled_from([None, 'BN'])),
        seed=draw(st.integers(0, 2**16)))


@SETTINGS
@given(head_configs())
def test_uper_head_shape_finite_and_mmseg_parity(case):
    gen = torch.Generator().manual_seed(case['seed'])
    h, w = case['size']
    feats = [
        torch.randn(case['batch'], c, -(-h // s), -(-w // s), generator=gen)
        for c, s in zip(case['map_channels'], case['strides'])
    ]
    cfg = dict(
        in_channels=[case['map_channels'][i] for i in case['in_index']],
        in_index=case['in_index'],
        channels=case['channels'],
        num_classes=case['num_classes'],
        pool_scales=case['pool_scales'],
        align_corners=case['align_corners'],
        dropout_ratio=0.0,
        norm_cfg=dict(type='BN') if case['norm'] else None)
    ours, theirs = UPerHead(**cfg), MMSegUPerHead(**cfg)
    randomize(ours, seed=case['seed'])
    theirs.load_state_dict(ours.state_dict(), strict=True)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        out, ref = ours(feats), theirs(feats)

    finest = feats[case['in_index'][0]]
    assert out.shape == (case['batch'], case['num_classes'], *finest.shape[2:])
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
