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
