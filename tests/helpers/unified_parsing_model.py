"""Builders for tests of the unified parsing model: a tiny multi-task
UPerNet config and data samples with labels of every task."""
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from helpers import GN
# yapf: disable
from upernet_mm.datasets.unified_parsing_classes import (MATERIAL_CLASSES,
                                                         METAINFO,
                                                         NUM_PARTS_OF_OBJECT,
                                                         OBJECT_CLASSES,
                                                         SCENE_CLASSES,
                                                         TEXTURE_CLASSES)

# yapf: enable

TASKS = ('object', 'part', 'scene', 'material', 'texture')
SOURCES = dict(
    scenes=('object', 'part', 'scene'),
    materials=('material', ),
    textures=('texture', ))


def tiny_upp_model(tasks=TASKS, norm_cfg=GN, size=(64, 64), **head):
    """A tiny UnifiedParsingSegmentor config (ResNetV1c-18 at width 8, trunk
    of 16 channels) for the unified parsing classes; ``head`` overrides
    decode_head fields."""
    decode_head = dict(
        type='UnifiedParsingHead',
        tasks=tasks,
        in_channels=[8, 16, 32, 64],
        in_index=[0, 1, 2, 3],
        channels=16,
        dropout_ratio=0.0,
        num_classes=len(OBJECT_CLASSES),
        num_parts=list(NUM_PARTS_OF_OBJECT),
        num_scene_classes=len(SCENE_CLASSES),
        num_material_classes=len(MATERIAL_CLASSES),
        num_texture_classes=len(TEXTURE_CLASSES),
        norm_cfg=norm_cfg)
    decode_head.update(head)
    preprocessor = dict(
        type='UnifiedParsingDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255)
    if size is not None:
        preprocessor['size'] = size
    return dict(
        type='UnifiedParsingSegmentor',
        data_preprocessor=preprocessor,
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            out_indices=(0, 1, 2, 3),
            norm_cfg=norm_cfg),
        decode_head=decode_head,
        test_cfg=dict(mode='whole'))


def build_model(cfg):
    """Build a model config in upernet_mm's scope."""
    from mmengine.registry import DefaultScope

    from upernet_mm.registry import MODELS
    from upernet_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('upernet_mm'):
        return MODELS.build(cfg)


def random_labels(height, width, seed=0):
    """Object, part and material maps (1, H, W) with every object's parts
    labelled (part index within its group) and random materials."""
    gen = torch.Generator().manual_seed(seed)
    obj = torch.randint(
        0, len(OBJECT_CLASSES), (1, height, width), generator=gen)
    part = torch.full_like(obj, 255)
    for index, num in enumerate(NUM_PARTS_OF_OBJECT):
        mask = obj == index
        if num and mask.any():
            part[mask] = torch.randint(
                0, num, (int(mask.sum()), ), generator=gen)
    material = torch.randint(
        0, len(MATERIAL_CLASSES), (1, height, width), generator=gen)
    return obj, part, material


def make_sample(source='scenes',
                height=64,
                width=64,
                seed=0,
                scene=2,
                texture=3,
                **meta):
    """A SegDataSample as the unified parsing pipeline packs it, for one of
    the three sources: labels of the tasks the source does not annotate
    are 255 / -1."""
    tasks = SOURCES[source]
    obj, part, material = random_labels(height, width, seed)
    if 'object' not in tasks:
        obj[:] = 255
        part[:] = 255
    if 'material' not in tasks:
        material[:] = 255
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=obj)
    sample.gt_part_seg = PixelData(data=part)
    sample.gt_material_seg = PixelData(data=material)
    info = dict(
        scene_label=scene if 'scene' in tasks else -1,
        texture_label=texture if 'texture' in tasks else -1,
        tasks=tasks,
        source=source,
        img_path=f'{source}/{seed:04d}.png',
        img_shape=(height, width),
        ori_shape=(height, width),
        pad_shape=(height, width))
    info.update(meta)
    sample.set_metainfo(info)
    return sample


def make_batch(source='scenes', num=2, height=64, width=64, seed=0, **meta):
    """A data batch (uint8 images and samples) of one source."""
    gen = torch.Generator().manual_seed(seed + 1000)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (3, height, width), dtype=torch.uint8, generator=gen)
            for _ in range(num)
        ],
        data_samples=[
            make_sample(source, height, width, seed + i, **meta)
            for i in range(num)
        ])


def metainfo():
    return dict(METAINFO)
