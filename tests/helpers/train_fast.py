"""Builders for the fast-training tests: the quick-start configs shrunk to a
few iterations on a tiny generated SyntheticScenes copy, run in-process with
the options ``tools/train.py`` applies."""
import os.path as osp

from mmengine.config import Config

from . import ROOT

QUICK_START = osp.join(ROOT, 'configs', 'upernet_convnext.py')
QUICK_START_FP32 = osp.join(ROOT, 'configs', 'upernet_convnext_fp32.py')


def tiny_quick_start_config(path,
                            data_root,
                            work_dir,
                            max_iters=2,
                            batch_size=2):
    """The config at ``path`` (a quick-start config) with ``max_iters``
    iterations of ``batch_size`` images, no validation, no dataloader
    workers, and its SyntheticScenes generated into ``data_root`` (8
    training and 2 validation images)."""
    cfg = Config.fromfile(path)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters + 1
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = max_iters
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = str(data_root)
        loader.dataset.generator_cfg = dict(
            loader.dataset.generator_cfg, num_train=8, num_val=2)
    cfg.train_dataloader.batch_size = batch_size
    return cfg
