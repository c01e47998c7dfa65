"""Start-up check of a training config's data against its model: run by
``tools/train.py`` before the Runner is built, so bad data fails in seconds
rather than hours into a run.

Always (cheap): ``data_root`` and the data folders exist, no split is empty,
every image has an annotation file, and every head's ``num_classes`` equals
the number of classes of the train and val datasets. With
``check_files=True`` (``tools/train.py --check-data``) every image and
annotation is also decoded and checked; see
:func:`upernet_mm.datasets.checks.check_sample`, and for the part and
material maps of a ``UnifiedParsingDataset``
:func:`upernet_mm.datasets.unified_parsing_check.check_unified_parsing_sample`.
"""
import logging

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmseg.datasets import BaseSegDataset

from upernet_mm.datasets import UnifiedParsingDataset
from upernet_mm.datasets.checks import (DataCheckError,
                                        check_annotations_exist,
                                        check_annotations_without_images,
                                        check_data_folders, check_folder_tree,
                                        check_not_empty, check_samples)
from upernet_mm.datasets.unified_parsing_check import \
    check_unified_parsing_samples
from upernet_mm.registry import DATASETS
from .unified_parsing_startup_check import check_level_classes

_WRAPPER_KEYS = ('dataset', 'datasets')


def head_num_classes(model_cfg) -> dict:
    """``num_classes`` of the decode and auxiliary heads of a model config.

    Args:
        model_cfg (dict): The ``model`` field of a config (a TTA wrapper's
            ``module`` is looked into).

    Returns:
        dict: Field path (``'model.decode_head'``, ...) to ``num_classes``
        and to ``ignore_index`` (255 when unset), for heads that set it.
    """
    model_cfg = model_cfg.get('module', model_cfg)
    heads = {}
    for key in ('decode_head', 'auxiliary_head'):
        value = model_cfg.get(key)
        items = value if isinstance(value, (list, tuple)) else [value]
        for i, head in enumerate(items):
            if isinstance(head, dict) and 'num_classes' in head:
                path = f'model.{key}' + (f'[{i}]' if isinstance(
                    value, (list, tuple)) else '')
                heads[path] = (head['num_classes'],
                               head.get('ignore_index', 255))
    return heads


def _pad_values(cfg):
    """(field, seg_pad_val) of the data preprocessor and of every pipeline
    transform of the train dataloader that pads label maps."""
    model_cfg = cfg.get('model', {})
    model_cfg = model_cfg.get('module', model_cfg)
    found = []
    pre = model_cfg.get('data_preprocessor') or {}
    if isinstance(pre, dict) and 'SegDataPreProcessor' in str(
            pre.get('type', '')):
        found.append(('model.data_preprocessor.seg_pad_val',
                      pre.get('seg_pad_val', 255)))
    loader = cfg.get('train_dataloader') or {}
    if 'dataset' in loader:
        for path, dataset_cfg in _leaf_datasets(loader['dataset'],
                                                'train_dataloader.dataset'):
            for i, transform in enumerate(dataset_cfg.get('pipeline') or []):
                if isinstance(transform, dict) and 'seg_pad_val' in transform:
                    found.append((f'{path}.pipeline[{i}] '
                                  f'({transform.get("type")}).seg_pad_val',
                                  transform['seg_pad_val']))
    return found


def check_pad_values(cfg: Config) -> None:
    """Raise if the value that pads label maps (the data preprocessor's and
    the pipeline's ``seg_pad_val``) is not the ``ignore_index`` of every
    head: padded pixels would be trained as that class, or fail the loss.

    Raises:
        DataCheckError: Naming both fields and values.
    """
    heads = head_num_classes(cfg.get('model', {}))
    for pad_field, pad in _pad_values(cfg):
        for head, (num_classes, ignore_index) in heads.items():
            if pad == ignore_index:
                continue
            effect = (f'trained as class {pad}' if 0 <= pad < num_classes else
                      'a label value outside the classes, which stops '
                      'training')
            raise DataCheckError(
                f'{pad_field}={pad} but {head}.ignore_index={ignore_index}: '
                f'padded pixels would be {effect}; set the pad value to the '
                'ignore index of every head')


def _leaf_datasets(dataset_cfg, path):
    """(path, config) of the datasets inside dataset wrappers."""
    children = [k for k in _WRAPPER_KEYS if k in dataset_cfg]
    if not children:
        yield path, dataset_cfg
        return
    for key in children:
        value = dataset_cfg[key]
        if isinstance(value, (list, tuple)):
            for i, child in enumerate(value):
                yield from _leaf_datasets(child, f'{path}.{key}[{i}]')
        else:
            yield from _leaf_datasets(value, f'{path}.{key}')


def _build_lazy(dataset_cfg):
    """The dataset without loading its data list, or None if its type is not
    an mmseg ``BaseSegDataset``."""
    dataset_type = dataset_cfg.get('type')
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) \
        else dataset_type
    if not (isinstance(cls, type) and issubclass(cls, BaseSegDataset)):
        return None
    dataset_cfg = dict(dataset_cfg)
    # serialising an empty data list fails with an opaque numpy error
    dataset_cfg.update(lazy_init=True, serialize_data=False)
    return DATASETS.build(dataset_cfg)


def check_classes(heads: dict, dataset, where: str) -> None:
    """Raise if a head's ``num_classes`` differs from the dataset's classes.

    Args:
        heads (dict): From :func:`head_num_classes`.
        dataset (BaseDataset): The dataset.
        where (str): Config path of the dataset, for the message.

    Raises:
        DataCheckError: Naming the head field, both numbers and the classes.
    """
    classes = dataset.metainfo.get('classes')
    if not classes:
        return
    for path, (num_classes, _) in heads.items():
        if num_classes != len(classes):
            shown = ', '.join(map(str, classes[:8]))
            more = ', ...' if len(classes) > 8 else ''
            raise DataCheckError(
                f'{path}.num_classes={num_classes} but {where} '
                f'({type(dataset).__name__}, data_root='
                f'{dataset.data_root!r}) has {len(classes)} classes '
                f'({shown}{more}); set num_classes={len(classes)} in every '
                'head, or metainfo.classes of the dataset')


def check_data(
    cfg: Config,
    check_files: bool = False,
    loaders=('train_dataloader', 'val_dataloader')
) -> dict:
    """Check the datasets of a config before training.

    Args:
        cfg (Config): The complete config.
        check_files (bool): Also decode every image and annotation and check
            sizes and label values. Default: False.
        loaders (Sequence[str]): Dataloader fields to check (missing ones
            are skipped). Default: train and val.

    Returns:
        dict: Number of samples per checked dataset path (datasets that are
        not mmseg ``BaseSegDataset`` subclasses are skipped with a warning).

    Raises:
        DataCheckError: Naming the dataset, the file and the value at fault.
    """
    heads = head_num_classes(cfg.get('model', {}))
    check_pad_values(cfg)
    sizes = {}
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        for loader in loaders:
            loader_cfg = cfg.get(loader)
            if not loader_cfg or 'dataset' not in loader_cfg:
                continue
            for path, dataset_cfg in _leaf_datasets(loader_cfg['dataset'],
                                                    f'{loader}.dataset'):
                dataset = _build_lazy(dataset_cfg)
                if dataset is None:
                    print_log(
                        f'Data check skipped for {path}: '
                        f'{dataset_cfg.get("type")} is not an mmseg '
                        'BaseSegDataset',
                        logger='current',
                        level=logging.WARNING)
                    continue
                if not getattr(dataset, 'generate_if_missing', False):
                    check_data_folders(dataset)
                    check_folder_tree(dataset)
                dataset.full_init()
                check_not_empty(dataset)
                check_annotations_exist(dataset)
                check_annotations_without_images(dataset)
                check_classes(heads, dataset, path)
                check_level_classes(cfg.get('model', {}), dataset, path)
                if check_files:
                    check_samples(
                        dataset, heads
                        or {path: (len(dataset.metainfo['classes']), 255)})
                    if isinstance(dataset, UnifiedParsingDataset):
                        counts = check_unified_parsing_samples(dataset)
                        print_log(
                            f'Data check of {path}: every task\'s '
                            f'labels checked, samples per source '
                            f'{counts}',
                            logger='current')
                sizes[path] = len(dataset)
    what = 'files decoded and checked' if check_files else \
        'folders and classes checked (--check-data decodes every file)'
    print_log(f'Data check: {sizes} samples; {what}', logger='current')
    return sizes


__all__ = [
    'DataCheckError', 'check_classes', 'check_data', 'check_pad_values',
    'head_num_classes'
]
