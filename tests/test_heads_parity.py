"""Our heads against mmseg 1.2.2's, with the same weights and inputs."""
import pytest
import torch
from mmseg.models.decode_heads import FCNHead as MMSegFCNHead
from mmseg.models.decode_heads import UPerHead as MMSegUPerHead

from upernet_mm.benchmark.candidates import randomize
from upernet_mm.models import FCNHead, UPerHead

TOL = 1e-5


def _features(channels, size, strides, batch=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    h, w = size
    return [
        torch.randn(batch, c, -(-h // s), -(-w // s), generator=gen)
        for c, s in zip(channels, strides)
    ]


def _assert_pair_equal(ours, theirs, inputs, train):
    theirs.load_state_dict(ours.state_dict(), strict=True)
    ours.train(train)
    theirs.train(train)
    xs_a = [x.clone().requires_grad_() for x in inputs]
    xs_b = [x.clone().requires_grad_() for x in inputs]
    out_a, out_b = ours(xs_a), theirs(xs_b)
    assert out_a.shape == out_b.shape
    torch.testing.assert_close(out_a, out_b, atol=TOL, rtol=TOL)
    # the same upstream gradient through both
    grad = torch.randn(out_a.shape, generator=torch.Generator().manual_seed(3))
    out_a.backward(grad)
    out_b.backward(grad)
    for xa, xb in zip(xs_a, xs_b):
        if xb.grad is None:
            assert xa.grad is None
        else:
            torch.testing.assert_close(xa.grad, xb.grad, atol=TOL, rtol=TOL)
    params_b = dict(theirs.named_parameters())
    for name, pa in ours.named_parameters():
        pb = params_b[name]
        assert (pa.grad is None) == (pb.grad is None), name
        if pa.grad is not None:
            torch.testing.assert_close(
                pa.grad, pb.grad, atol=TOL, rtol=TOL, msg=name)


UPER_CASES = [
    # channels per level, strides, input size, pool_scales
    ([16], [32], (33, 47), (1, 2, 3, 6)),
    ([8, 16], [4, 8], (33, 47), (1, 2)),
    ([8, 16, 24], [4, 8, 16], (64, 48), (1, 3)),
    ([8, 12, 16, 32], [4, 8, 16, 32], (33, 47), (1, 2, 3, 6)),
    ([8, 8, 16, 16, 32], [2, 4, 8, 16, 32], (97, 61), (2, 4)),
]


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('train', [False, True])
@pytest.mark.parametrize('channels,strides,size,pool_scales', UPER_CASES)
def test_uper_head_matches_mmseg(channels, strides, size, pool_scales,
                                 align_corners, train):
    cfg = dict(
        in_channels=channels,
        in_index=list(range(len(channels))),
        channels=16,
        pool_scales=pool_scales,
        num_classes=5,
        dropout_ratio=0.0,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=align_corners)
    torch.manual_seed(0)
    ours, theirs = UPerHead(**cfg), MMSegUPerHead(**cfg)
    randomize(ours)
    inputs = _features(channels, size, strides)
    _assert_pair_equal(ours, theirs, inputs, train)
    assert ours(inputs).shape[2:] == inputs[0].shape[2:]


def test_uper_head_selects_levels_by_in_index():
    channels, strides = [8, 12, 16, 32], [4, 8, 16, 32]
    cfg = dict(
        in_channels=[12, 32],
        in_index=[1, 3],
        channels=8,
        num_classes=3,
        dropout_ratio=0.0,
        norm_cfg=dict(type='BN'))
    ours, theirs = UPerHead(**cfg), MMSegUPerHead(**cfg)
    randomize(ours)
    inputs = _features(channels, (65, 33), strides)
    _assert_pair_equal(ours, theirs, inputs, train=False)
    assert ours(inputs).shape[2:] == inputs[1].shape[2:]


@pytest.mark.parametrize('norm_cfg,act_cfg', [
    (None, dict(type='ReLU')),
    (dict(type='GN', num_groups=4), dict(type='GELU')),
    (dict(type='BN'), dict(type='LeakyReLU', negative_slope=0.1)),
])
def test_uper_head_norm_and_act_variants(norm_cfg, act_cfg):
    cfg = dict(
        in_channels=[8, 16],
        in_index=[0, 1],
        channels=8,
        num_classes=4,
        dropout_ratio=0.0,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg)
    ours, theirs = UPerHead(**cfg), MMSegUPerHead(**cfg)
    randomize(ours)
    _assert_pair_equal(
        ours, theirs, _features([8, 16], (31, 29), [4, 8]), train=True)


def test_uper_head_syncbn_builds_with_mmseg_keys():
    cfg = dict(
        in_channels=[8, 16],
        in_index=[0, 1],
        channels=8,
        num_classes=4,
        norm_cfg=dict(type='SyncBN', requires_grad=True))
    ours, theirs = UPerHead(**cfg), MMSegUPerHead(**cfg)
    assert isinstance(ours.bottleneck.bn, torch.nn.SyncBatchNorm)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict(), strict=True)


FCN_CASES = [
    dict(num_convs=2, kernel_size=3, concat_input=True, dilation=1),
    dict(num_convs=1, kernel_size=1, concat_input=False, dilation=1),
    dict(num_convs=3, kernel_size=3, concat_input=True, dilation=2),
    dict(num_convs=0, kernel_size=3, concat_input=True, dilation=1),
    dict(num_convs=0, kernel_size=1, concat_input=False, dilation=1),
]


@pytest.mark.parametrize('train', [False, True])
@pytest.mark.parametrize('fcn_cfg', FCN_CASES)
def test_fcn_head_matches_mmseg(fcn_cfg, train):
    channels = 16 if fcn_cfg['num_convs'] == 0 else 8
    cfg = dict(
        in_channels=16,
        in_index=2,
        channels=channels,
        num_classes=6,
        dropout_ratio=0.0,
        norm_cfg=dict(type='BN'),
        **fcn_cfg)
    ours, theirs = FCNHead(**cfg), MMSegFCNHead(**cfg)
    randomize(ours)
    inputs = _features([4, 8, 16, 32], (33, 47), [4, 8, 16, 32])
    _assert_pair_equal(ours, theirs, inputs, train)


def test_fcn_head_resize_concat_matches_mmseg():
    cfg = dict(
        in_channels=[4, 8],
        in_index=[0, 1],
        input_transform='resize_concat',
        channels=8,
        num_classes=3,
        dropout_ratio=0.0,
        norm_cfg=dict(type='BN'))
    ours, theirs = FCNHead(**cfg), MMSegFCNHead(**cfg)
    randomize(ours)
    _assert_pair_equal(
        ours, theirs, _features([4, 8], (33, 47), [4, 8]), train=True)


def test_dropout_and_loss_match_mmseg_in_train_mode():
    """Dropout and the loss come from BaseDecodeHead in both heads."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    cfg = dict(
        in_channels=[8, 16],
        in_index=[0, 1],
        channels=8,
        num_classes=4,
        dropout_ratio=0.1,
        norm_cfg=dict(type='BN'))
    ours, theirs = UPerHead(**cfg), MMSegUPerHead(**cfg)
    theirs.load_state_dict(ours.state_dict())
    inputs = _features([8, 16], (32, 32), [4, 8])
    samples = []
    for i in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(32, 32)))
        label = torch.randint(
            0, 4, (1, 32, 32), generator=torch.Generator().manual_seed(i))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    torch.manual_seed(7)
    loss_a = ours.loss(inputs, samples, dict())
    torch.manual_seed(7)
    loss_b = theirs.loss(inputs, samples, dict())
    assert set(loss_a) == set(loss_b)
    for key in loss_a:
        torch.testing.assert_close(loss_a[key], loss_b[key], atol=TOL, rtol=0)
