import pytest
from mmengine.registry import DefaultScope


@pytest.fixture
def scope():
    """Run a test inside a given default scope, restored afterwards."""
    entered = []

    def enter(name):
        ctx = DefaultScope.overwrite_default_scope(name)
        ctx.__enter__()
        entered.append(ctx)

    yield enter
    for ctx in reversed(entered):
        ctx.__exit__(None, None, None)


def make_seg_folder(root, num_images=8, size=(32, 40), num_classes=4,
                    split='training', seed=0):
    """Write ``num_images`` random image/annotation PNG pairs in the ADE20K
    folder layout under ``root`` and return ``root``."""
    import mmcv
    import numpy as np
    rng = np.random.default_rng(seed)
    h, w = size
    img_dir = root / 'images' / split
    ann_dir = root / 'annotations' / split
    img_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    for i in range(num_images):
        label = np.zeros((h, w), np.uint8)
        for c in range(1, num_classes):
            y, x = rng.integers(0, h - 8), rng.integers(0, w - 8)
            label[y:y + rng.integers(4, h - y), x:x + rng.integers(4, w - x)] = c
        img = (label[..., None] * 50 +
               rng.integers(0, 40, (h, w, 3))).astype(np.uint8)
        mmcv.imwrite(img, str(img_dir / f'{i:04d}.png'))
        mmcv.imwrite(label, str(ann_dir / f'{i:04d}.png'))
    return root


@pytest.fixture
def seg_folder(tmp_path):
    return make_seg_folder(tmp_path / 'data')


def tiny_uper_model(num_classes, norm_cfg, size=None, dropout_ratio=0.0,
                    **extra):
    """A tiny UPerNet (ResNetV1c-18 at width 8, head of 16 channels) as a
    model config dict; ``size`` pads batches in the data preprocessor and
    ``extra`` adds or replaces top-level model fields (e.g. auxiliary_head,
    test_cfg)."""
    preprocessor = dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255)
    if size is not None:
        preprocessor['size'] = size
    model = dict(
        type='EncoderDecoder',
        data_preprocessor=preprocessor,
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            out_indices=(0, 1, 2, 3),
            norm_cfg=norm_cfg),
        decode_head=dict(
            type='UPerHead',
            in_channels=[8, 16, 32, 64],
            in_index=[0, 1, 2, 3],
            channels=16,
            dropout_ratio=dropout_ratio,
            num_classes=num_classes,
            norm_cfg=norm_cfg),
        test_cfg=dict(mode='whole'))
    model.update(extra)
    return model
