"""mmseg's CrossEntropyLoss(class_weight=...) in upernet_mm's heads: the
mean over the labelled pixels as torch's cross_entropy, with ignored
pixels (255, or the index right after the classes)."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.losses import CrossEntropyLoss
from mmseg.structures import SegDataSample

from upernet_mm.models.decode_heads import FCNHead, UPerHead
from upernet_mm.models.losses import class_weighted_cross_entropy

NUM_CLASSES = 5
WEIGHTS = [0.5, 1.0, 4.0, 2.0, 8.0]


def _labels(ignore_index, seed=0, shape=(2, 12, 16)):
    gen = torch.Generator().manual_seed(seed)
    label = torch.randint(0, NUM_CLASSES, shape, generator=gen)
    ignored = torch.rand(shape, generator=gen) < 0.3
    label[ignored] = ignore_index
    return label


def _samples(label):
    return [
        SegDataSample(
            gt_sem_seg=PixelData(data=lab[None]),
            metainfo=dict(seg_map_path=f'{i}.png'))
        for i, lab in enumerate(label)
    ]


def _loss_cfg(loss_weight=1.0, **extra):
    return dict(
        type='CrossEntropyLoss',
        use_sigmoid=False,
        loss_weight=loss_weight,
        class_weight=WEIGHTS,
        **extra)


@pytest.mark.parametrize('ignore_index', [255, NUM_CLASSES])
def test_criterion_equals_torch(ignore_index):
    label = _labels(ignore_index)
    logits = torch.randn(2, NUM_CLASSES, 12, 16, requires_grad=True)
    ours = class_weighted_cross_entropy(
        logits,
        label,
        class_weight=torch.tensor(WEIGHTS),
        ignore_index=ignore_index)
    ref = F.cross_entropy(
        logits, label, weight=torch.tensor(WEIGHTS), ignore_index=ignore_index)
    torch.testing.assert_close(ours, ref)
    grad, = torch.autograd.grad(ours, logits)
    ref_grad, = torch.autograd.grad(ref, logits)
    torch.testing.assert_close(grad, ref_grad)


def test_criterion_without_labelled_pixels_is_zero():
    label = torch.full((1, 4, 4), 255)
    logits = torch.randn(1, NUM_CLASSES, 4, 4, requires_grad=True)
    loss = class_weighted_cross_entropy(
        logits, label, class_weight=torch.tensor(WEIGHTS), ignore_index=255)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.count_nonzero(logits.grad) == 0


def test_criterion_bfloat16_logits_in_float32():
    label = _labels(255)
    logits = torch.randn(2, NUM_CLASSES, 12, 16)
    ours = class_weighted_cross_entropy(
        logits.bfloat16(),
        label,
        class_weight=torch.tensor(WEIGHTS).bfloat16(),
        ignore_index=255)
    ref = F.cross_entropy(
        logits.bfloat16().float(),
        label,
        weight=torch.tensor(WEIGHTS),
        ignore_index=255)
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours, ref)


def test_mmseg_alone_fails_on_ignored_pixels():
    """Why the fix exists: mmseg 1.2.2's own loss indexes the class weights
    with the ignore index. If this starts passing, mmseg fixed it."""
    loss = CrossEntropyLoss(class_weight=WEIGHTS)
    label = _labels(255)
    with pytest.raises(IndexError):
        loss(torch.randn(2, NUM_CLASSES, 12, 16), label, ignore_index=255)


def _uper_head(ignore_index, loss_decode):
    return UPerHead(
        in_channels=[4, 8],
        in_index=[0, 1],
        channels=8,
        pool_scales=(1, 2),
        num_classes=NUM_CLASSES,
        ignore_index=ignore_index,
        loss_decode=loss_decode,
        norm_cfg=dict(type='BN'))


@pytest.mark.parametrize('ignore_index', [255, NUM_CLASSES])
def test_heads_loss_equals_torch(ignore_index):
    """Every decode head of upernet_mm, with mmseg's loss config: the loss
    is torch's weighted mean over labelled pixels times loss_weight, also
    with two losses in a list."""
    torch.manual_seed(0)
    label = _labels(ignore_index)
    samples = _samples(label)
    logits = torch.randn(2, NUM_CLASSES, 6, 8)
    upsampled = F.interpolate(
        logits, size=label.shape[1:], mode='bilinear', align_corners=False)
    ref = F.cross_entropy(
        upsampled,
        label,
        weight=torch.tensor(WEIGHTS),
        ignore_index=ignore_index)

    head = _uper_head(ignore_index, _loss_cfg(loss_weight=0.7))
    assert type(head.loss_decode) is CrossEntropyLoss  # mmseg's class
    losses = head.loss_by_feat(logits, samples)
    torch.testing.assert_close(losses['loss_ce'], 0.7 * ref)

    fcn = FCNHead(
        in_channels=4,
        channels=8,
        num_classes=NUM_CLASSES,
        ignore_index=ignore_index,
        norm_cfg=dict(type='BN'),
        loss_decode=[_loss_cfg(0.4),
                     _loss_cfg(0.6, loss_name='loss_ce2')])
    losses = fcn.loss_by_feat(logits, samples)
    torch.testing.assert_close(losses['loss_ce'], 0.4 * ref)
    torch.testing.assert_close(losses['loss_ce2'], 0.6 * ref)


def test_unweighted_loss_stays_mmseg():
    """Without class weights the head keeps mmseg's criterion (and its
    numbers)."""
    head = _uper_head(255, dict(type='CrossEntropyLoss', loss_weight=1.0))
    assert head.loss_decode.cls_criterion.__module__ == \
        'mmseg.models.losses.cross_entropy_loss'
