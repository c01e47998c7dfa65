"""A tiny SyntheticScenes UPerNet saved as a config file and a checkpoint
(seeded random weights, no training), for tests of the inference tools:
``tools/demo.py`` and video inference."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from helpers import BASE, GN, tiny_uper_model
from helpers.unified_parsing_model import tiny_upp_model


def write_tiny_checkpoint(folder, seed=0):
    """Write ``tiny.py`` and ``tiny.pth`` (weights-only, with the classes
    and palette in ``meta.dataset_meta``) into ``folder``; return their
    paths."""
    from upernet_mm.datasets.synthetic_scenes_classes import CLASSES, PALETTE
    from upernet_mm.registry import MODELS
    from upernet_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    folder = str(folder)
    cfg = Config(
        dict(
            _base_=[
                osp.join(BASE, 'datasets', 'synthetic_scenes.py'),
                osp.join(BASE, 'default_runtime.py')
            ],
            model=tiny_uper_model(len(CLASSES), GN)))
    config = osp.join(folder, 'tiny.py')
    cfg.dump(config)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('upernet_mm'):
        model = MODELS.build(Config.fromfile(config).model)
    # larger random logits, so that the untrained model predicts several
    # classes
    with torch.no_grad():
        model.decode_head.conv_seg.weight.mul_(20)
    checkpoint = osp.join(folder, 'tiny.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(
                dataset_meta=dict(
                    classes=list(CLASSES), palette=[list(c)
                                                    for c in PALETTE]))),
        checkpoint)
    return config, checkpoint


def write_tiny_upp_checkpoint(folder, seed=0):
    """Write ``tiny_upp.py`` and ``tiny_upp.pth``: a tiny unified parsing
    model (every task) with seeded random weights, a test pipeline for
    images without labels, and the class names of every level in the
    checkpoint's ``meta.dataset_meta`` (as a Runner saves the dataset's
    metainfo); return their paths."""
    from upernet_mm.datasets.unified_parsing_classes import METAINFO
    from upernet_mm.registry import MODELS
    from upernet_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    folder = str(folder)
    cfg = Config(
        dict(
            _base_=[osp.join(BASE, 'default_runtime.py')],
            model=tiny_upp_model(size=None),
            test_pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(512, 128), keep_ratio=True),
                dict(type='PackUnifiedParsingInputs')
            ]))
    config = osp.join(folder, 'tiny_upp.py')
    cfg.dump(config)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('upernet_mm'):
        model = MODELS.build(Config.fromfile(config).model)
    checkpoint = osp.join(folder, 'tiny_upp.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(METAINFO))), checkpoint)
    return config, checkpoint
