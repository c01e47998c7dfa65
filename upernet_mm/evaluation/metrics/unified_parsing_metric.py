"""Metrics of Unified Perceptual Parsing, one table for every task."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.structures import BaseDataElement
from prettytable import PrettyTable

from upernet_mm.registry import METRICS


def _array(value) -> np.ndarray:
    if isinstance(value, dict):
        value = value['data']
    if isinstance(value, BaseDataElement):
        value = value.data
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    return value.reshape(value.shape[-2:]) if value.ndim > 2 else value


def _field(sample: dict, key: str):
    value = sample.get(key)
    return None if value is None else _array(value)


def _areas(pred: np.ndarray, gt: np.ndarray, num_classes: int,
           valid: np.ndarray) -> np.ndarray:
    """(3, num_classes): intersection, prediction area, label area over
    ``valid`` pixels."""
    pred, gt = pred[valid].astype(np.int64), gt[valid].astype(np.int64)
    inter = gt[pred == gt]
    out = np.zeros((3, num_classes), np.int64)
    out[0] = np.bincount(inter, minlength=num_classes)[:num_classes]
    keep = (pred >= 0) & (pred < num_classes)
    out[1] = np.bincount(pred[keep], minlength=num_classes)[:num_classes]
    out[2] = np.bincount(gt, minlength=num_classes)[:num_classes]
    return out


def iou_from_areas(areas: np.ndarray) -> np.ndarray:
    """Per-class IoU from (3, C) areas; NaN for classes absent from both
    prediction and ground truth (union 0), which means then leave out."""
    inter, pred, label = areas
    union = pred + label - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


@METRICS.register_module()
class UnifiedParsingMetric(BaseMetric):
    """Object, part, scene, material and texture metrics of Unified
    Perceptual Parsing, printed as one table.

    * object: mIoU and pixel accuracy (``mIoU``, ``aAcc``) over the pixels
      with an object label;
    * part (``part_mIoU``, ``part_mIoU_bg``, ``part_aAcc``), as the
      authors' evaluation (CSAILVision/unifiedparsing ``eval_multipro.py``)
      defines them: for each object class with parts, in the images where
      its parts are annotated (a ground-truth pixel of it with a part
      label; 255 = not annotated in this image), the predicted part map is
      the part prediction *inside the predicted object* and the ground
      truth is the part label inside the ground-truth object.
      ``part_mIoU``: IoU of each of its real parts (1..; part 0, "other",
      left out), averaged over its parts, then over the object classes
      that have ground-truth part pixels (> 0) in the evaluated images;
      ``part_mIoU_bg``: the same with part 0 included (the paper's "mIoU
      (bg)"); ``part_aAcc``: per object class, the fraction of its
      ground-truth part pixels (> 0) whose predicted object and part are
      both right, averaged over the same object classes. Pixels are
      evaluated where the truth is known (an object label, and a part
      label when the object class has parts);
    * scene: top-1 and top-5 accuracy (``scene_top1``, ``scene_top5``) over
      images with a scene label;
    * material: mIoU and pixel accuracy (``material_mIoU``,
      ``material_aAcc``) over the labelled pixels;
    * texture: top-1 accuracy (``texture_top1``) over images with a
      texture label.

    Means leave out the classes absent from both prediction and ground
    truth (mmseg's convention; the authors' code counts them as IoU 0,
    which lowers mIoU). A sample contributes to a task only if its
    ``tasks`` metainfo names it (when present) and it has labels for it.
    All values are percentages; a task without evaluated samples is left
    out of the results (shown as '-').

    Args:
        ignore_index (int): Label of unlabelled pixels. Default: 255.
        topk (Sequence[int]): Top-k accuracies of scene. Default: (1, 5).
        collect_device (str): 'cpu' or 'gpu'. Default: 'cpu'.
        prefix (str, optional): Prefix of the metric names.
    """
    default_prefix: Optional[str] = None

    def __init__(self,
                 ignore_index: int = 255,
                 topk: Sequence[int] = (1, 5),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not topk or any(not isinstance(k, int) or k < 1 for k in topk):
            raise ValueError('UnifiedParsingMetric: topk must be a list of '
                             f'positive ints, got {topk!r}')
        self.ignore_index = ignore_index
        self.topk = tuple(topk)

    # ------------------------------------------------------------ classes
    def _meta(self, key):
        meta = self.dataset_meta or {}
        if key not in meta:
            raise KeyError(
                f'UnifiedParsingMetric needs dataset_meta[{key!r}] (the '
                'Runner copies the val dataset\'s metainfo; set '
                'metric.dataset_meta yourself when calling it directly)')
        return meta[key]

    def _num_parts(self) -> List[int]:
        classes = self._meta('classes')
        parts = self._meta('part_classes')
        unknown = [name for name in parts if name not in classes]
        if unknown:
            raise ValueError(f'dataset_meta part_classes names object(s) '
                             f'{unknown} that are not in classes')
        return [len(parts.get(name, ())) for name in classes]

    # ------------------------------------------------------------ process
    @staticmethod
    def _named(sample: dict, task: str) -> bool:
        tasks = sample.get('tasks')
        return tasks is None or task in tasks

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Count per image; ``data_samples`` are the model's
        :class:`SegDataSample` outputs (or their ``to_dict()``)."""
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            self.results.append(self._process_one(sample))

    def _process_one(self, sample: dict) -> dict:
        result = {}
        gt_obj = _field(sample, 'gt_sem_seg')
        pred_obj = _field(sample, 'pred_sem_seg')
        objects = self._class_areas(sample, 'object', 'sem_seg', 'classes')
        if objects is not None:
            result['object'] = objects
        gt_part = _field(sample, 'gt_part_seg')
        pred_part = _field(sample, 'pred_part_seg')
        if self._named(sample, 'part') and gt_part is not None \
                and pred_part is not None and gt_obj is not None \
                and pred_obj is not None:
            self._check_shapes(sample, 'pred_part_seg', pred_part, gt_part)
            parts = self._part_areas(pred_obj, pred_part, gt_obj, gt_part)
            if parts is not None:
                result['part'] = parts
        materials = self._class_areas(sample, 'material', 'material_seg',
                                      'material_classes')
        if materials is not None:
            result['material'] = materials
        for task in ('scene', 'texture'):
            label = sample.get(f'{task}_label', -1)
            pred = sample.get(f'pred_{task}')
            if label is None or int(label) < 0 or pred is None \
                    or not self._named(sample, task):
                continue
            score = pred['score'] if isinstance(pred, dict) else pred.score
            score = torch.as_tensor(score).float().flatten()
            if not 0 <= int(label) < score.numel():
                raise ValueError(
                    f'{task}_label {int(label)} is outside the '
                    f'{score.numel()} {task} classes of the prediction '
                    f'(img_path={sample.get("img_path")!r})')
            # rank of the true class: how many classes score higher
            rank = int((score > score[int(label)]).sum())
            result[task] = rank
        return result

    def _class_areas(self, sample, task, seg, classes_key):
        """The areas (see :func:`_areas`) of a task labelled per pixel by
        classes (``gt_<seg>``, ``pred_<seg>``); None if the sample does not
        label it or has no labelled pixel."""
        gt = _field(sample, f'gt_{seg}')
        pred = _field(sample, f'pred_{seg}')
        if not self._named(sample, task) or gt is None or pred is None:
            return None
        self._check_shapes(sample, f'pred_{seg}', pred, gt)
        valid = gt != self.ignore_index
        if not valid.any():
            return None
        return _areas(pred, gt, len(self._meta(classes_key)), valid)

    @staticmethod
    def _check_shapes(sample, field, pred, gt) -> None:
        if pred.shape != gt.shape:
            raise ValueError(
                f'{field} has shape {pred.shape} but its ground truth has '
                f'{gt.shape} (img_path={sample.get("img_path")!r}); '
                'predictions must be at the label maps\' size')

    def _part_areas(self, pred_obj, pred_part, gt_obj, gt_part):
        """Per object class with parts whose parts are annotated in this
        image (a ground-truth pixel of it with a part label other than
        ``ignore_index``): (2, parts) intersection and union of each part
        class (0 = "other" included), plus (correct, total) pixels of its
        real parts (ground truth > 0); None if no such object."""
        ignore = self.ignore_index
        num_parts = np.asarray(self._num_parts())
        known = gt_obj != ignore
        obj_index = np.where(known, gt_obj, 0).astype(np.int64)
        if (obj_index >= len(num_parts)).any():
            raise ValueError(f'gt_sem_seg holds object class '
                             f'{int(obj_index.max())}, outside the '
                             f'{len(num_parts)} classes')
        has_parts = num_parts[obj_index] > 0
        # where the truth is known: objects without parts, or with a part
        # label (255 = this object's parts are not annotated here)
        valid = known & (~has_parts | (gt_part != ignore))
        out = {}
        for obj in np.flatnonzero(num_parts):
            in_gt = valid & (gt_obj == obj)
            if not in_gt.any():
                continue
            n = int(num_parts[obj])
            in_pred = valid & (pred_obj == obj)
            gt_k = np.where(in_gt, gt_part, -1)
            pred_k = np.where(in_pred, pred_part, -1)
            areas = np.zeros((2, n), np.int64)
            for k in range(n):
                g, p = gt_k == k, pred_k == k
                areas[0, k] = np.count_nonzero(g & p)
                areas[1, k] = np.count_nonzero(g | p)
            real = gt_k > 0
            correct = np.count_nonzero(real & (gt_k == pred_k))
            out[int(obj)] = (areas, correct, int(np.count_nonzero(real)))
        return out or None

    # ------------------------------------------------------------ compute
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        metrics = OrderedDict()
        rows = []

        def pixel_task(task, key_iou, key_acc, classes):
            parts = [r[task] for r in results if task in r]
            if not parts:
                rows.extend([(task, 'mIoU', None, ''),
                             (task, 'aAcc', None, '')])
                return
            areas = np.sum(parts, axis=0)
            iou = iou_from_areas(areas)
            counted = int(np.count_nonzero(~np.isnan(iou)))
            miou = float(np.nanmean(iou)) * 100 if counted else float('nan')
            acc = areas[0].sum() / max(areas[2].sum(), 1) * 100
            metrics[key_iou] = round(miou, 2)
            metrics[key_acc] = round(float(acc), 2)
            rows.append(
                (task, 'mIoU', miou, f'{counted}/{len(classes)} classes, '
                 f'{len(parts)} images'))
            rows.append((task, 'aAcc', acc, f'{int(areas[2].sum())} pixels'))

        pixel_task('object', 'mIoU', 'aAcc', self._meta('classes'))

        part_results = [r['part'] for r in results if 'part' in r]
        per_object, per_object_bg, accs = [], [], []
        for obj in np.flatnonzero(self._num_parts()) if part_results \
                else ():
            entries = [r[int(obj)] for r in part_results if int(obj) in r]
            pixels = sum(e[2] for e in entries)
            if not pixels:
                # as the reference: an object without ground-truth part
                # pixels is left out of the part means
                continue
            areas = np.sum([e[0] for e in entries], axis=0)
            with np.errstate(invalid='ignore', divide='ignore'):
                iou = np.where(areas[1] > 0,
                               areas[0] / np.maximum(areas[1], 1), np.nan)
            per_object.append(float(np.nanmean(iou[1:])))
            per_object_bg.append(float(np.nanmean(iou)))
            accs.append(sum(e[1] for e in entries) / pixels)
        if per_object:
            miou = float(np.mean(per_object)) * 100
            miou_bg = float(np.mean(per_object_bg)) * 100
            acc = float(np.mean(accs)) * 100
            metrics['part_mIoU'] = round(miou, 2)
            metrics['part_mIoU_bg'] = round(miou_bg, 2)
            metrics['part_aAcc'] = round(acc, 2)
            note = f'{len(per_object)} objects, {len(part_results)} images'
            rows.append(('part', 'mIoU', miou, note))
            rows.append(('part', 'mIoU (bg)', miou_bg, note))
            rows.append(('part', 'aAcc', acc, note))
        else:
            rows.extend([('part', 'mIoU', None, ''),
                         ('part', 'mIoU (bg)', None, ''),
                         ('part', 'aAcc', None, '')])

        ranks = [r['scene'] for r in results if 'scene' in r]
        for k in self.topk:
            if ranks:
                value = float(np.mean(np.asarray(ranks) < k)) * 100
                metrics[f'scene_top{k}'] = round(value, 2)
                rows.append(
                    ('scene', f'top-{k}', value, f'{len(ranks)} images'))
            else:
                rows.append(('scene', f'top-{k}', None, ''))

        pixel_task(
            'material', 'material_mIoU', 'material_aAcc',
            self._meta('material_classes') if any('material' in r
                                                  for r in results) else ())

        ranks = [r['texture'] for r in results if 'texture' in r]
        if ranks:
            value = float(np.mean(np.asarray(ranks) < 1)) * 100
            metrics['texture_top1'] = round(value, 2)
            rows.append(('texture', 'top-1', value, f'{len(ranks)} images'))
        else:
            rows.append(('texture', 'top-1', None, ''))

        print_log(
            '\n' + format_table(rows), logger=MMLogger.get_current_instance())
        return metrics


def format_table(rows) -> str:
    """The metric table: task, metric, value (%), what was counted
    (prettytable, as mmseg's ``IoUMetric`` prints its table)."""
    table = PrettyTable(['task', 'metric', 'value (%)', 'counted'])
    table.align = 'l'
    table.add_rows([(task, name, '-' if value is None else f'{value:.2f}',
                     note) for task, name, value, note in rows])
    return table.get_string()
