"""Our UPerEncoderDecoder: test_cfg checks and batched sliding-window inference
equal to mmseg's sequential one."""
import math

import pytest
import torch
from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder as MMSegEncoderDecoder
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.structures import SegDataSample

from helpers import BN, tiny_uper_model
from upernet_mm.models.segmentors import UPerEncoderDecoder, slide_windows
from upernet_mm.registry import MODELS


def segmentor_cfg(test_cfg, num_classes=5):
    return tiny_uper_model(
        num_classes, BN, dropout_ratio=0.1, test_cfg=ConfigDict(test_cfg))


def _pair(scope, batch_size, crop=(32, 40), stride=(20, 24)):
    """mmseg's EncoderDecoder and ours, same weights, eval mode."""
    slide = dict(mode='slide', crop_size=crop, stride=stride)
    scope('upernet_mm')
    torch.manual_seed(0)
    ours = MODELS.build(segmentor_cfg(dict(slide,
                                           batch_size=batch_size))).eval()
    # non-trivial BN statistics
    for m in ours.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    scope('mmseg')
    theirs = MMSEG_MODELS.build(
        dict(segmentor_cfg(slide), type='EncoderDecoder')).eval()
    theirs.load_state_dict(ours.state_dict(), strict=True)
    return ours, theirs


def _metas(n, h, w):
    return [
        dict(
            ori_shape=(h, w),
            img_shape=(h, w),
            pad_shape=(h, w),
            padding_size=[0, 0, 0, 0]) for _ in range(n)
    ]


def test_upstream_name_means_upstream_class_in_every_scope(scope):
    scope('upernet_mm')
    model = MODELS.build(segmentor_cfg(dict(mode='whole')))
    assert type(model) is UPerEncoderDecoder
    assert isinstance(model, MMSegEncoderDecoder)
    assert MODELS.get('EncoderDecoder') is MMSegEncoderDecoder
    scope('mmseg')
    assert MMSEG_MODELS.get('EncoderDecoder') is MMSegEncoderDecoder
    assert MMSEG_MODELS.get('upernet_mm.UPerEncoderDecoder') is \
        UPerEncoderDecoder


@pytest.mark.parametrize('batch_size', [1, 4, 7, 1000])
@pytest.mark.parametrize('size', [(70, 90), (25, 90)])
def test_batched_slide_equals_mmseg_slide(scope, batch_size, size):
    ours, theirs = _pair(scope, batch_size)
    h, w = size
    x = torch.randn(2, 3, h, w)
    windows = slide_windows((h, w), (32, 40), (20, 24))
    calls = []
    encode_decode = ours.encode_decode

    def counting(inputs, metas):
        calls.append(inputs.shape[0])
        return encode_decode(inputs, metas)

    ours.encode_decode = counting
    with torch.no_grad():
        expected = theirs.slide_inference(x, _metas(2, h, w))
        got = ours.slide_inference(x, _metas(2, h, w))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    crops = 2 * len(windows)
    assert calls == [
        min(batch_size, crops - i) for i in range(0, crops, batch_size)
    ]
    assert len(calls) == math.ceil(crops / batch_size)


def test_batched_slide_predict_end_to_end(scope):
    ours, theirs = _pair(scope, 5, crop=(48, 48), stride=(32, 32))
    x = torch.randn(1, 3, 100, 130)
    samples = [SegDataSample(metainfo=_metas(1, 100, 130)[0])]
    with torch.no_grad():
        a = ours.predict(x, [s.clone() for s in samples])[0]
        b = theirs.predict(x, [s.clone() for s in samples])[0]
    torch.testing.assert_close(
        a.seg_logits.data, b.seg_logits.data, rtol=1e-5, atol=1e-5)
    assert a.pred_sem_seg.shape == (100, 130)


def test_without_batch_size_runs_mmseg_code(scope):
    scope('upernet_mm')
    slide = dict(mode='slide', crop_size=(32, 32), stride=(16, 16))
    model = MODELS.build(segmentor_cfg(slide)).eval()
    with torch.no_grad():
        x = torch.randn(1, 3, 40, 50)
        got = model.slide_inference(x, _metas(1, 40, 50))
        expected = MMSegEncoderDecoder.slide_inference(model, x,
                                                       _metas(1, 40, 50))
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    # batch_size set on the built model takes effect
    model.test_cfg.batch_size = 3
    with torch.no_grad():
        torch.testing.assert_close(
            model.slide_inference(x, _metas(1, 40, 50)),
            expected,
            rtol=1e-5,
            atol=1e-5)


@pytest.mark.parametrize('test_cfg, message', [
    (dict(mode='sliding'), 'test_cfg.mode must be'),
    (dict(mode='whole', batch_size=2), 'only applies to mode="slide"'),
    (dict(mode='slide', stride=(8, 8)), 'test_cfg.crop_size must be a pair'),
    (dict(mode='slide', crop_size=(8, 8),
          stride=(0, 8)), 'test_cfg.stride must be a pair'),
    (dict(mode='slide', crop_size=(8, 8), stride=(8, 8),
          batch_size=0), 'test_cfg.batch_size must be a positive int'),
    (dict(mode='slide', crop_size=8,
          stride=(8, 8)), 'test_cfg.crop_size must be a pair'),
])
def test_bad_test_cfg_is_named(scope, test_cfg, message):
    scope('upernet_mm')
    with pytest.raises(ValueError, match=message.replace('(', r'\(')):
        MODELS.build(segmentor_cfg(test_cfg))
