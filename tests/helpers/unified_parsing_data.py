"""Builders for tests of the unified parsing data: tiny generation settings,
hand-made sources with labels of known geometry, and fakes of a sampler."""
import json
import os
import os.path as osp

import cv2
import numpy as np

from upernet_mm.datasets.unified_parsing_classes import (MATERIAL_CLASSES,
                                                         NUM_PARTS_OF_OBJECT,
                                                         OBJECT_INDEX)

# a few images per source, 64 px: generation in well under a second
TINY_CFG = dict(
    seed=0,
    size=64,
    num_train=dict(scenes=6, materials=4, textures=3),
    num_val=dict(scenes=2, materials=2, textures=1))

CELL = 8
# objects with parts, so that every cell can carry a part label
CELL_OBJECTS = [
    OBJECT_INDEX[name] for name in ('building', 'window', 'tree', 'car',
                                    'wheel', 'person', 'painting', 'table')
]


def cell_triple(row, col):
    """(object, part, material) of grid cell (row, col) of the geometry
    source: all three are functions of the cell, none symmetric."""
    index = row * 97 + col * 13
    obj = CELL_OBJECTS[index % len(CELL_OBJECTS)]
    part = (row + 2 * col) % NUM_PARTS_OF_OBJECT[obj]
    material = (3 * row + col) % len(MATERIAL_CLASSES)
    return obj, part, material


def cell_colour(row, col):
    """Image colour (RGB) that encodes a cell: G = 20 * row, B = 20 * col."""
    return (128, 20 * row, 20 * col)


def geometry_maps(height, width):
    """Image and label maps of a grid of CELL x CELL cells."""
    img = np.zeros((height, width, 3), np.uint8)
    maps = {
        t: np.zeros((height, width), np.uint8)
        for t in ('object', 'part', 'material')
    }
    for row in range(height // CELL):
        for col in range(width // CELL):
            window = (slice(row * CELL, (row + 1) * CELL),
                      slice(col * CELL, (col + 1) * CELL))
            img[window] = cell_colour(row, col)
            for task, value in zip(('object', 'part', 'material'),
                                   cell_triple(row, col)):
                maps[task][window] = value
    return img, maps


def write_source(root,
                 name,
                 tasks,
                 images,
                 split='training',
                 img_suffix='.png',
                 labels=None):
    """Write one source folder.

    Args:
        root (str): The data root.
        name (str): Source folder name.
        tasks (list[str]): Written to source.json.
        images (dict): stem -> dict(img=RGB uint8 array, and any of
            object/part/material label maps).
        labels (dict, optional): Written to labels/<split>.json as it is.
    """
    source = osp.join(root, name)
    os.makedirs(osp.join(source, 'images', split), exist_ok=True)
    with open(osp.join(source, 'source.json'), 'w') as f:
        json.dump(dict(tasks=list(tasks), img_suffix=img_suffix), f)
    for stem, sample in images.items():
        cv2.imwrite(
            osp.join(source, 'images', split, stem + img_suffix),
            np.ascontiguousarray(sample['img'][..., ::-1]))
        for task in ('object', 'part', 'material'):
            if task in sample:
                os.makedirs(osp.join(source, task, split), exist_ok=True)
                cv2.imwrite(
                    osp.join(source, task, split, stem + '.png'), sample[task])
    if labels is not None:
        os.makedirs(osp.join(source, 'labels'), exist_ok=True)
        with open(osp.join(source, 'labels', split + '.json'), 'w') as f:
            json.dump(labels, f)
    return source


class FakeSampler:
    """What SourceBatchSampler reads of mmengine's samplers."""

    def __init__(self,
                 dataset,
                 rank=0,
                 world_size=1,
                 seed=0,
                 shuffle=True,
                 epoch=None):
        self.dataset = dataset
        self.rank = rank
        self.world_size = world_size
        self.seed = seed
        self.shuffle = shuffle
        if epoch is not None:  # finite (DefaultSampler-like)
            self.epoch = epoch
            self.set_epoch = lambda e: setattr(self, 'epoch', e)


class FakeSourceDataset:
    """A dataset of ``sizes[name]`` samples per source, in order."""

    def __init__(self, sizes):
        self.sources = []
        for name, size in sizes.items():
            self.sources += [name] * size

    def __len__(self):
        return len(self.sources)

    def get_data_info(self, index):
        return dict(source=self.sources[index])


def sampler_rank_worker(rank, world_size, store, sizes, queue):
    """One rank of a gloo process group: the sources and samples of the
    first batches of a SourceBatchSampler over mmengine's InfiniteSampler
    (whose seed mmengine syncs across the ranks)."""
    import torch.distributed as dist
    from mmengine.dataset import InfiniteSampler

    from upernet_mm.datasets import SourceBatchSampler
    try:
        dist.init_process_group(
            'gloo',
            init_method=f'file://{store}',
            rank=rank,
            world_size=world_size)
        dataset = FakeSourceDataset(sizes)
        sampler = SourceBatchSampler(
            InfiniteSampler(dataset, shuffle=True), batch_size=3)
        it = iter(sampler)
        batches = [next(it) for _ in range(40)]
        queue.put((rank, [dataset.sources[b[0]] for b in batches], batches,
                   sampler.rank, sampler.world_size))
        dist.destroy_process_group()
    except Exception as e:  # reported to the test
        queue.put((rank, repr(e), None, None, None))
