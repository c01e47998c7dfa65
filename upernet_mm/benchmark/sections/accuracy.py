"""Accuracy of the deploy forms (with ``--checkpoint``): a trained model on
its config's validation split, mIoU of the original fp32 model and of the
deploy forms in fp32 and bf16, and the share of pixels given the same class
as the original."""
import copy
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from upernet_mm.apis import init_model
from upernet_mm.deploy import deploy_segmentor
from upernet_mm.registry import METRICS
from ..table import fmt, format_table


def run(s, opts, tput):
    """fp32 original vs deploy forms on the config's validation split."""
    if not opts.checkpoint:
        return 'Accuracy of the deploy forms', 'skipped: no --checkpoint', {}
    model = init_model(opts.config, opts.checkpoint, 'cpu', strict=True)
    cfg = Config.fromfile(opts.config)
    loader_cfg = copy.deepcopy(cfg.val_dataloader)
    loader_cfg['num_workers'] = 0
    loader_cfg['persistent_workers'] = False
    with DefaultScope.overwrite_default_scope('upernet_mm'):
        loader = Runner.build_dataloader(loader_cfg)
        variants = {'fp32 (original)': model}
        for precision in ('fp32', 'bf16'):
            variants[f'deploy {precision}'] = deploy_segmentor(
                copy.deepcopy(model), precision=precision)
        metrics = {}
        for name in variants:
            metric = METRICS.build(dict(type='IoUMetric',
                                        iou_metrics=['mIoU']))
            metric.dataset_meta = loader.dataset.metainfo
            metrics[name] = metric
    same = {n: 0 for n in variants}
    total = 0
    for data in loader:
        preds = {}
        with torch.no_grad():
            for name, m in variants.items():
                out = m.test_step(copy.deepcopy(data))
                metrics[name].process(data, [o.to_dict() for o in out])
                preds[name] = torch.stack(
                    [o.pred_sem_seg.data for o in out])
        ref = preds['fp32 (original)']
        total += ref.numel()
        for name in variants:
            same[name] += (preds[name] == ref).sum().item()
    n = len(loader.dataset)
    rows = []
    results = {}
    for name, metric in metrics.items():
        miou = metric.compute_metrics(metric.results)['mIoU']
        results[name] = dict(mIoU=miou, same_class=same[name] / total)
        rows.append([name, fmt(miou, '.2f'),
                     fmt(100 * same[name] / total, '.3f')])
    title = (f'Accuracy on the validation split of {osp.relpath(opts.config)}'
             f' ({n} images), checkpoint {opts.checkpoint}')
    return title, format_table(['model', 'mIoU', 'same class as fp32 %'],
                               rows), results
