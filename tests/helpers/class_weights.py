"""A two-image labelled folder with hand-counted labels and its config, for
the class frequency tests."""
import os
import os.path as osp

import numpy as np
from PIL import Image

#: The two label maps (4 classes a, b, c, d; 255 ignored): a 5 pixels,
#: b 5, c 4 (only in the second map), d none, 2 ignored.
HAND_COUNTED = (
    np.array([[0, 0, 1, 1], [0, 0, 255, 255]], np.uint8),
    np.array([[2, 2, 2, 2], [0, 1, 1, 1]], np.uint8),
)


def write_label_folder(root, stray_value=None):
    """Write ``img/000N.png`` and ``ann/000N.png`` for :data:`HAND_COUNTED`
    under ``root``; ``stray_value`` replaces the second map's first row's
    last three pixels (3 pixels)."""
    root = str(root)
    for folder in ('img', 'ann'):
        os.makedirs(osp.join(root, folder), exist_ok=True)
    for i, label in enumerate(HAND_COUNTED):
        label = label.copy()
        if stray_value is not None and i == 1:
            label[0, 1:] = stray_value
        Image.fromarray(label).save(osp.join(root, 'ann', f'{i:04d}.png'))
        Image.fromarray(np.full(label.shape + (3, ), 90 * i, np.uint8)).save(
            osp.join(root, 'img', f'{i:04d}.png'))


def label_folder_config(root, ignore_index=255, **dataset):
    """A config (dict) whose train dataloader reads :func:`write_label_folder`
    with mmseg's ``BaseSegDataset`` behind a random training pipeline, and
    whose decode head has ``ignore_index``; ``dataset`` adds dataset
    fields."""
    return dict(
        default_scope='upernet_mm',
        model=dict(decode_head=dict(num_classes=4, ignore_index=ignore_index)),
        train_dataloader=dict(
            dataset=dict(
                type='BaseSegDataset',
                data_root=str(root),
                data_prefix=dict(img_path='img', seg_map_path='ann'),
                img_suffix='.png',
                seg_map_suffix='.png',
                metainfo=dict(classes=('a', 'b', 'c', 'd')),
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='LoadAnnotations'),
                    dict(type='RandomCrop', crop_size=(1, 1)),
                    dict(type='PackSegInputs')
                ],
                **dataset)))
