"""Class names and palettes: transformers ``id2label`` <-> mm dataset
metainfo."""
from typing import Any, Callable, Dict, List, Optional, Sequence

from mmseg.registry import DATASETS

from .rules import ConversionError


def classes_from_id2label(hf_cfg: Dict[str, Any], origin: str) -> List[str]:
    """Class names ordered by label id.

    Args:
        hf_cfg (dict): An HF config (``id2label``, else ``num_labels``).
        origin (str): The config file, for errors.

    Raises:
        ConversionError: If the ids are not exactly ``0 .. n-1``.
    """
    id2label = hf_cfg.get('id2label')
    if not id2label:
        num = hf_cfg.get('num_labels', 2)
        return [f'LABEL_{i}' for i in range(num)]
    try:
        ids = sorted(int(i) for i in id2label)
    except ValueError as error:
        raise ConversionError(
            f'{origin}: id2label has a non-integer id ({error})') from None
    if ids != list(range(len(ids))):
        raise ConversionError(
            f'{origin}: id2label ids must be 0..{len(ids) - 1} without gaps '
            f'(they index the logits), got {ids}')
    by_id = {int(k): v for k, v in id2label.items()}
    return [str(by_id[i]) for i in ids]


def _known_palettes() -> List[Dict[str, Any]]:
    """METAINFO of the dataset types registered so far in mmseg's dataset
    registry and its children (upernet_mm's among them)."""
    found, todo = [], [DATASETS]
    while todo:
        registry = todo.pop()
        registry.import_from_location()
        todo.extend(registry.children.values())
        for cls in registry.module_dict.values():
            meta = getattr(cls, 'METAINFO', None)
            if isinstance(meta, dict) and meta.get('classes') \
                    and meta.get('palette'):
                found.append(meta)
    return found


def voc_palette(num_classes: int) -> List[List[int]]:
    """The PASCAL VOC colour map: distinct, deterministic colours for up to
    256 classes (bits of the class id spread over R, G and B)."""
    palette = []
    for i in range(num_classes):
        r = g = b = 0
        c = i
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette.append([r, g, b])
    return palette


def palette_for(classes: Sequence[str]) -> List[List[int]]:
    """The palette of the mmseg dataset with exactly these classes, else the
    VOC colour map."""
    for meta in _known_palettes():
        if tuple(meta['classes']) == tuple(classes) and \
                len(meta['palette']) == len(classes):
            return [list(map(int, c)) for c in meta['palette']]
    return voc_palette(len(classes))


def _dataset_cfgs(cfg) -> List[Any]:
    """Dataset configs of the test, val and train loaders (unwrapping
    dataset wrappers), in that order."""
    found = []
    for name in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(name) if hasattr(cfg, 'get') else None
        dataset = loader.get('dataset') if loader else None
        while dataset is not None:
            found.append(dataset)
            dataset = dataset.get('dataset') if hasattr(dataset,
                                                        'get') else None
    return found


def checkpoint_or_config_classes(
        cfg, checkpoint_meta: Optional[Dict],
        dataset_type_classes: Callable[[str], Any]) -> Optional[List[str]]:
    """Class names of a checkpoint and its mm config, or None if neither
    names any.

    Looks at, in order: the checkpoint's ``meta.dataset_meta`` (what the
    model was trained on: mmengine's Runner and ``to-mm`` write it; mmseg's
    ``init_model`` reads it first too); a top-level ``metainfo`` of the
    config; the ``metainfo`` of its test/val/train datasets; the classes
    ``dataset_type_classes`` gives for their dataset type.

    Args:
        cfg (Config): The mm config.
        checkpoint_meta (dict, optional): The checkpoint's ``meta``.
        dataset_type_classes (callable): Dataset type name -> its class
            names or None.
    """
    meta = (checkpoint_meta or {}).get('dataset_meta') or {}
    if meta.get('classes'):
        return list(meta['classes'])
    top = cfg.get('metainfo')
    if top and top.get('classes'):
        return list(top['classes'])
    datasets = _dataset_cfgs(cfg)
    for dataset in datasets:
        meta = dataset.get('metainfo')
        if meta and meta.get('classes'):
            return list(meta['classes'])
    for dataset in datasets:
        if dataset.get('type'):
            classes = dataset_type_classes(dataset['type'])
            if classes:
                return classes
    return None
