"""Head in_channels that disagree with the backbone are reported when the
segmentor is built, naming the backbone's output channels and the head's
in_channels."""
import pytest
import torch

from upernet_mm.models.head_input_check import check_head_inputs
from upernet_mm.registry import MODELS

BACKBONE = dict(
    type='ResNetV1c',
    depth=18,
    stem_channels=8,
    base_channels=8,
    out_indices=(0, 1, 2, 3))  # channels 8, 16, 32, 64


def _model(decode_head=None, auxiliary_head=None):
    head = dict(
        type='UPerHead',
        in_channels=[8, 16, 32, 64],
        in_index=[0, 1, 2, 3],
        channels=8,
        num_classes=3)
    head.update(decode_head or {})
    cfg = dict(type='UPerEncoderDecoder', backbone=BACKBONE, decode_head=head)
    if auxiliary_head is not None:
        cfg['auxiliary_head'] = auxiliary_head
    return cfg


@pytest.fixture(autouse=True)
def _scope(scope):
    scope('upernet_mm')


def test_matching_model_builds_untouched():
    model = MODELS.build(_model())
    assert model.training
    assert all(m.training for m in model.modules())
    # the dry run left no trace in the BN statistics
    bn = model.backbone.stem[1]
    assert int(bn.num_batches_tracked) == 0
    assert torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))
    assert check_head_inputs(model) == [8, 16, 32, 64]


def test_uper_head_in_channels_mismatch():
    with pytest.raises(ValueError) as info:
        MODELS.build(_model(dict(in_channels=[8, 16, 32, 128])))
    msg = str(info.value)
    assert 'UPerHead (model.decode_head) in_channels=[8, 16, 32, 128]' in msg
    assert 'ResNetV1c output has 4 feature maps with channels ' \
           '[8, 16, 32, 64]' in msg
    assert 'in_channels=[8, 16, 32, 64]' in msg  # the fix


def test_auxiliary_head_mismatch_and_missing_level():
    aux = dict(
        type='FCNHead', in_channels=16, in_index=2, channels=8, num_classes=3)
    with pytest.raises(
            ValueError,
            match=r'FCNHead \(model.auxiliary_head\) '
            r'in_channels=16 with in_index=2 does not match'):
        MODELS.build(_model(auxiliary_head=aux))
    with pytest.raises(
            ValueError,
            match=r'selects feature map\(s\) \[4\], '
            r'but the ResNetV1c output has 4 feature maps'):
        MODELS.build(
            _model(
                dict(
                    in_channels=[8, 16, 32, 64, 64], in_index=[0, 1, 2, 3,
                                                               4])))


def test_mmseg_head_resize_concat_checked_too():
    aux = dict(
        type='mmseg.FCNHead',
        in_channels=[8, 16],
        in_index=[0, 2],
        input_transform='resize_concat',
        channels=8,
        num_classes=3)
    with pytest.raises(
            ValueError,
            match=r'expects 24 channels in total '
            r'\(resize_concat\).*sum to 40 \(\[8, 32\]\)'):
        MODELS.build(_model(auxiliary_head=aux))
