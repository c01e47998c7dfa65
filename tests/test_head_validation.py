"""Bad head arguments and inputs give errors that name what is wrong."""
import re

import pytest
import torch

from upernet_mm.models import FCNHead, UPerHead

UPER = dict(in_channels=[8, 16], in_index=[0, 1], channels=8, num_classes=3)
FCN = dict(in_channels=16, in_index=1, channels=8, num_classes=3)


@pytest.mark.parametrize('override,pattern', [
    (dict(in_index=[0, 1, 2]),
     r'UPerHead: in_channels has 2 entries \[8, 16\] but in_index has 3'),
    (dict(in_channels=16), r'UPerHead: in_channels must be a non-empty list'),
    (dict(in_channels=[]), r'UPerHead: in_channels must be a non-empty list'),
    (dict(in_channels=[8, 0]), r'in_channels must hold positive ints'),
    (dict(in_index=1), r'UPerHead: in_index must be a list'),
    (dict(pool_scales=6), r'UPerHead: pool_scales must be a list'),
    (dict(pool_scales=(1, 0)), r'pool_scales .* got \(1, 0\)'),
    (dict(pool_scales=(1, -2)), r'pool_scales'),
    (dict(channels=0), r'UPerHead: channels must be a positive int, got 0'),
    (dict(channels=-4), r'channels must be a positive int, got -4'),
    (dict(input_transform='resize_concat'),
     r'input_transform must be "multiple_select"'),
])
def test_uper_head_rejects_bad_arguments(override, pattern):
    with pytest.raises(ValueError, match=pattern):
        UPerHead(**{**UPER, **override})


@pytest.mark.parametrize('override,pattern', [
    (dict(num_convs=-1), r'FCNHead: num_convs must be an int >= 0, got -1'),
    (dict(kernel_size=2), r'FCNHead: kernel_size must be a positive odd'),
    (dict(kernel_size=0), r'kernel_size'),
    (dict(dilation=0), r'FCNHead: dilation must be a positive int'),
    (dict(num_convs=0),
     r'num_convs=0 .* in_channels \(16\) must equal channels \(8\)'),
    (dict(channels=0), r'FCNHead: channels must be a positive int'),
    (dict(in_channels=[16]), r'FCNHead: in_channels must be a positive int'),
    (dict(input_transform='bogus'), r'FCNHead: input_transform must be'),
    (dict(input_transform='resize_concat', in_index=[0, 1],
          in_channels=[4]), r'in_channels has 1 entries'),
])
def test_fcn_head_rejects_bad_arguments(override, pattern):
    with pytest.raises(ValueError, match=pattern):
        FCNHead(**{**FCN, **override})


def test_wrong_number_of_feature_maps_names_head_and_level():
    head = UPerHead(**{
        **UPER, 'in_channels': [8, 16, 32],
        'in_index': [0, 1, 3]
    })
    inputs = [torch.randn(1, 8, 8, 8), torch.randn(1, 16, 4, 4)]
    with pytest.raises(ValueError) as info:
        head(inputs)
    msg = str(info.value)
    assert 'UPerHead' in msg and 'level 2 selects feature map 3' in msg
    assert '2 feature maps were received' in msg
    assert '(1, 8, 8, 8)' in msg and '(1, 16, 4, 4)' in msg


def test_wrong_channels_names_level_expected_and_received_shape():
    head = UPerHead(**UPER)
    inputs = [torch.randn(2, 8, 8, 8), torch.randn(2, 12, 4, 4)]
    with pytest.raises(
            ValueError,
            match=re.escape(
                'UPerHead: level 1 (feature map 1) expected shape '
                '(N, 16, H, W) '
                'from in_channels=[8, 16], received (2, 12, 4, 4)')):
        head(inputs)


def test_fcn_head_wrong_channels():
    head = FCNHead(**FCN)
    inputs = [torch.randn(2, 8, 8, 8), torch.randn(2, 32, 4, 4)]
    with pytest.raises(
            ValueError,
            match=re.escape('FCNHead: level 0 (feature map 1) expected shape '
                            '(N, 16, H, W) '
                            'from in_channels=16, received (2, 32, 4, 4)')):
        head(inputs)


def test_non_tensor_and_non_4d_inputs():
    head = FCNHead(**FCN)
    with pytest.raises(ValueError, match='expects a list of feature maps'):
        head(torch.randn(2, 16, 4, 4))
    with pytest.raises(ValueError, match=r'received \(16, 4, 4\)'):
        head([torch.randn(8, 4, 4), torch.randn(16, 4, 4)])


def test_extra_feature_maps_are_allowed():
    """Backbones give 4 levels while the auxiliary head uses one."""
    head = FCNHead(**{**FCN, 'in_index': 2}).eval()
    inputs = [torch.randn(1, c, 4, 4) for c in (4, 8, 16, 32)]
    assert head(inputs).shape == (1, 3, 4, 4)


def test_uper_head_without_pyramid_pooling():
    """pool_scales=() leaves the PPM out: the bottleneck sees the coarsest
    level alone, and the output keeps the finest level's size."""
    head = UPerHead(**{**UPER, 'pool_scales': ()}).eval()
    assert head.psp_modules is None
    assert head.bottleneck.conv.in_channels == 16
    out = head([torch.randn(2, 8, 12, 10), torch.randn(2, 16, 6, 5)])
    assert out.shape == (2, 3, 12, 10)
    assert not any('psp_modules' in k for k in head.state_dict())
