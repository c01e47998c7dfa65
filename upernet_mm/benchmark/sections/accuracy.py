"""Accuracy of the deploy forms (with ``--checkpoint``): a trained model on
its config's validation split through mmseg's ``test_step`` (whole or slide
inference, resizing and postprocessing as in ``tools/test.py``): mIoU of the
original fp32 model, of mmseg's heads with the same weights, of our PyTorch
deploy forms (fp32, bf16), of onnxruntime on our ONNX export (fp32 and int8)
and of our OpenVINO artefacts (fp32, bf16, int8), and the share of pixels
given the same class as the original. Both int8 forms are calibrated on the
same images of the config's training split
(:func:`upernet_mm.deploy.calibration.calibration_images`, as
``tools/deployment/export_openvino.py`` does); the exported forms run inside
mmseg's inference through :func:`upernet_mm.apis.init_logits_model` and
:func:`upernet_mm.apis.init_model`."""
import copy
import os.path as osp
import time
from typing import Dict, List

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from upernet_mm.apis import build_segmentor, init_logits_model, init_model
from upernet_mm.deploy import deploy_segmentor
from upernet_mm.deploy.calibration import calibration_images
from upernet_mm.deploy.onnx.export import export_onnx
from upernet_mm.registry import METRICS
from .. import int8
from ..table import fmt, format_table
from .model import export_openvino, with_openvino

ORIGINAL = 'upernet_mm'
CALIBRATION_IMAGES_QUICK = 8  # --quick; else calibration_images' default


def _mmseg_heads(cfg: Config, model) -> torch.nn.Module:
    """mmseg's segmentor and heads with ``model``'s weights."""
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg['type'] = 'mmseg.EncoderDecoder'
    for key, kind in (('decode_head', 'UPerHead'), ('auxiliary_head',
                                                    'FCNHead')):
        head = model_cfg.get(key)
        if isinstance(head, dict) and head.get('type') == kind:
            head['type'] = f'mmseg.{kind}'
    model_cfg.pop('pretrained', None)
    mmseg = build_segmentor(model_cfg)
    mmseg.load_state_dict(model.state_dict(), strict=True)
    return mmseg.eval()


def variants(cfg: Config, opts, model, example_size,
             notes: List[str]) -> Dict[str, torch.nn.Module]:
    """The evaluated forms of ``model`` by row name."""
    forms = {ORIGINAL: model}
    if cfg.model.get('type') in ('UPerEncoderDecoder', 'EncoderDecoder'):
        forms['mmseg'] = _mmseg_heads(cfg, model)
    for precision in ('fp32', 'bf16'):
        forms[f'{ORIGINAL} deploy {precision}'] = deploy_segmentor(
            copy.deepcopy(model), precision=precision)
    calibration = None
    if not opts.no_onnx or with_openvino(opts):
        start = time.perf_counter()
        calibration, how = calibration_images(
            cfg,
            **(dict(
                num_images=CALIBRATION_IMAGES_QUICK) if opts.quick else {}))
        notes.append(f'int8 calibration: {len(calibration)} images of the '
                     f'{how.get("split", "train")} split '
                     f'({time.perf_counter() - start:.0f} s to load)')
    if not opts.no_onnx:
        onnx_path = export_onnx(
            model,
            osp.join(opts.tmpdir, 'accuracy.onnx'),
            example_size=example_size)
        start = time.perf_counter()
        paths = dict(
            fp32=onnx_path,
            int8=int8.ort_quantize_static(
                onnx_path, osp.join(opts.tmpdir, 'accuracy.int8.onnx'),
                calibration))
        notes.append(f'onnxruntime int8: quantize_static (QDQ, MinMax) in '
                     f'{time.perf_counter() - start:.0f} s')
        for precision, path in paths.items():
            forms[f'onnxruntime {precision}'] = init_logits_model(
                cfg, int8.ort_runner(path, torch.get_num_threads()))
    if with_openvino(opts):
        for precision in ('fp32', 'bf16', 'int8'):
            out_dir = osp.join(opts.tmpdir, f'accuracy_openvino_{precision}')
            start = time.perf_counter()
            export_openvino(
                model,
                out_dir,
                precision,
                example_size=example_size,
                calibration=calibration if precision == 'int8' else None,
                calibration_info=how if precision == 'int8' else None)
            if precision == 'int8':
                notes.append(f'openvino int8: exported and calibrated in '
                             f'{time.perf_counter() - start:.0f} s')
            forms[f'openvino {precision}'] = init_model(
                cfg, out_dir, deploy=precision)
    return forms


def run(settings, opts, conv_peak):
    """fp32 original vs the deploy forms on the config's validation split."""
    if not opts.checkpoint:
        return 'Accuracy of the deploy forms', 'skipped: no --checkpoint', {}
    cfg = Config.fromfile(opts.config)
    model = init_model(cfg, opts.checkpoint, 'cpu', strict=True)
    loader_cfg = copy.deepcopy(cfg.val_dataloader)
    loader_cfg['num_workers'] = 0
    loader_cfg['persistent_workers'] = False
    notes: List[str] = []
    with DefaultScope.overwrite_default_scope('upernet_mm'):
        loader = Runner.build_dataloader(loader_cfg)
        first = next(iter(loader))
        example_size = tuple(first['inputs'][0].shape[-2:])
        forms = variants(cfg, opts, model, example_size, notes)
        metrics = {}
        for name in forms:
            metric = METRICS.build(
                dict(type='IoUMetric', iou_metrics=['mIoU']))
            metric.dataset_meta = loader.dataset.metainfo
            metrics[name] = metric
    same = {n: 0 for n in forms}
    total = 0
    for data in loader:
        preds = {}
        with torch.no_grad():
            for name, m in forms.items():
                out = m.test_step(copy.deepcopy(data))
                metrics[name].process(data, [o.to_dict() for o in out])
                preds[name] = [o.pred_sem_seg.data for o in out]
        ref = preds[ORIGINAL]
        total += sum(r.numel() for r in ref)
        for name in forms:
            same[name] += sum(
                (p == r).sum().item() for p, r in zip(preds[name], ref))
    n = len(loader.dataset)
    rows = []
    results = {}
    for name, metric in metrics.items():
        miou = metric.compute_metrics(metric.results)['mIoU']
        results[name] = dict(mIoU=miou, same_class=same[name] / total)
        rows.append(
            [name,
             fmt(miou, '.2f'),
             fmt(100 * same[name] / total, '.3f')])
    title = (f'Accuracy on the validation split of {osp.relpath(opts.config)}'
             f' ({n} images), checkpoint {opts.checkpoint}')
    table = format_table(['model', 'mIoU', 'same class as fp32 %'], rows)
    if notes:
        table += '\n' + '\n'.join(notes)
    return title, table, results
