"""A tiny UPerNet for the OpenVINO tests: a complete config on a
:func:`helpers.make_seg_folder` folder and a checkpoint trained a few steps
(so that it predicts several classes, which pixel agreement needs)."""
import os.path as osp

import torch
from mmengine.config import Config

from helpers import BN, make_seg_folder, tiny_train_config, write_config


def _train(model, config, iters):
    """A few SGD steps on the training images (full size, no augmentation),
    so that the model predicts several classes where they are."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DefaultScope

    from upernet_mm.registry import DATASETS
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('upernet_mm'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    items = [dataset[i] for i in range(len(dataset))]
    for step in range(iters):
        batch = pseudo_collate(items[step % 2 * 4:step % 2 * 4 + 4])
        data = model.data_preprocessor(batch, True)
        losses = model.loss(data['inputs'], data['data_samples'])
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def write_tiny_openvino_model(folder, seed=0, iters=30):
    """Write data (8 training, 4 validation images of 32x40), ``tiny.py``
    and ``tiny.pth`` (seeded weights trained ``iters`` SGD steps) into
    ``folder``; return (config, checkpoint) paths."""
    from upernet_mm.apis import build_segmentor
    root = make_seg_folder(folder / 'data', num_images=8)
    make_seg_folder(root, num_images=4, split='validation', seed=1)
    config = write_config(folder, 'tiny.py', data_root=root, norm_cfg=BN)
    torch.manual_seed(seed)
    model = build_segmentor(Config.fromfile(config).model)
    _train(model, config, iters)
    checkpoint = osp.join(str(folder), 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    return config, checkpoint


def folder_images(config, split='val', num=4):
    """(1, 3, H, W) float32 0-255 images of the config's ``split`` through
    its test pipeline (what the artefacts take)."""
    from upernet_mm.deploy.calibration import calibration_images
    return calibration_images(Config.fromfile(config), num, split)[0]


__all__ = ['folder_images', 'tiny_train_config', 'write_tiny_openvino_model']


def run_test_step(model, images):
    """mmseg's ``test_step`` of ``model`` on ``images`` (HxWx3 arrays) taken
    through the config's test pipeline."""
    import torch

    from upernet_mm.apis import build_test_pipeline
    pipeline = build_test_pipeline(model.cfg)
    data = [pipeline(dict(img=img)) for img in images]
    batch = dict(
        inputs=[d['inputs'] for d in data],
        data_samples=[d['data_samples'] for d in data])
    with torch.no_grad():
        return model.test_step(batch)
