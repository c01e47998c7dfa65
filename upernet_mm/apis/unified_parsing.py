"""Inference helpers for Unified Perceptual Parsing models: class lists of
every level, drawings of the object, part and material predictions, a
panel with all levels, and a per-image summary (scene and texture top-5).

A prediction (``UnifiedParsingSegmentor.predict``) is a ``SegDataSample``
with ``pred_sem_seg`` (objects), ``pred_part_seg`` (part index *within the
group of the predicted object*: 0 = "other", 1.. = its parts; 255 where the
predicted object class has no parts), ``pred_material_seg``, and
``pred_scene`` / ``pred_texture`` (``score`` over all classes, ``label``).
"""
import os
import os.path as osp
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Union

import cv2
import mmcv
import numpy as np

from .label_maps import blend_colours, class_fractions

ImageType = Union[str, Path, np.ndarray]
LEVEL_KEYS = ('part_classes', 'part_palette', 'material_classes',
              'material_palette', 'scene_classes', 'texture_classes')
NO_PART = 255


def is_unified_parsing(model) -> bool:
    """Whether ``model`` predicts several levels (a
    ``UnifiedParsingSegmentor``)."""
    head = getattr(model, 'decode_head', None)
    return head is not None and hasattr(head, 'part_groups') and hasattr(
        head, 'tasks')


def _names(value, field: str) -> tuple:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) \
            or not all(isinstance(v, str) for v in value):
        raise ValueError(f'dataset_meta {field} must be a list of names, got '
                         f'{value!r}'[:300])
    return tuple(value)


def _palette(value, num: int, field: str, seed: int) -> List[List[int]]:
    if value is None:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 255, size=(num, 3)).tolist()
    array = np.asarray(value)
    if array.shape != (num, 3) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f'dataset_meta {field} must be {num} RGB triples of '
                         f'ints, got shape {array.shape}')
    return array.astype(int).tolist()


def unified_dataset_meta(model, meta: Optional[dict]) -> dict:
    """Class lists and palettes of every level for ``model.dataset_meta``,
    checked against the sizes of the model's heads.

    Args:
        model (nn.Module): A unified parsing segmentor with ``dataset_meta``
            holding ``classes`` (objects) already.
        meta (dict, optional): A checkpoint's ``dataset_meta`` or a dataset
            class's ``METAINFO``; missing lists get numbered names.

    Returns:
        dict: ``model.dataset_meta`` extended by ``part_classes`` (dict
        object name -> part names), ``part_palette``, ``material_classes``,
        ``material_palette``, ``scene_classes``, ``texture_classes``.

    Raises:
        ValueError: If a list does not match its head's number of classes,
            naming the list, both numbers and the class.
    """
    meta = dict(meta or {})
    head = model.decode_head
    out = dict(model.dataset_meta)
    objects = out['classes']
    if head.part_groups is not None:
        parts = meta.get('part_classes')
        if parts is None:
            warnings.warn('No part class names in the checkpoint or the '
                          'config: naming the parts by their index')
            parts = {
                objects[o]: tuple(str(k) for k in range(n))
                for o, n in enumerate(head.part_groups.num_parts) if n
            }
        if not isinstance(parts, dict):
            raise ValueError('dataset_meta part_classes must be a dict '
                             f'object name -> part names, got {type(parts)}')
        parts = {
            str(k): _names(v, f'part_classes[{k!r}]')
            for k, v in parts.items()
        }
        for index, num in enumerate(head.part_groups.num_parts):
            got = len(parts.get(objects[index], ()))
            if got != num:
                raise ValueError(
                    f'dataset_meta part_classes gives object '
                    f'{objects[index]!r} {got} part classes but the part '
                    f'head has {num} for it (num_parts[{index}])')
        palettes = meta.get('part_palette') or {}
        out['part_classes'] = parts
        out['part_palette'] = {
            name:
            _palette(
                palettes.get(name),
                len(names),
                f'part_palette[{name!r}]',
                seed=i)
            for i, (name, names) in enumerate(parts.items())
        }
    for task, key in (('material', 'material_classes'),
                      ('scene', 'scene_classes'), ('texture',
                                                   'texture_classes')):
        if task not in head.tasks:
            continue
        num = getattr(head, f'num_{task}_classes')
        names = meta.get(key)
        if names is None:
            warnings.warn(f'No {task} class names in the checkpoint or the '
                          f'config: naming them by their index')
            names = tuple(str(i) for i in range(num))
        names = _names(names, key)
        if len(names) != num:
            raise ValueError(
                f'dataset_meta {key} has {len(names)} names but the {task} '
                f'head predicts {num} classes')
        out[key] = names
    if 'material' in head.tasks:
        out['material_palette'] = _palette(
            meta.get('material_palette'),
            len(out['material_classes']),
            'material_palette',
            seed=7)
    return out


def _to_numpy(data) -> np.ndarray:
    return data.detach().cpu().numpy()


def _colour_labels(image_rgb: np.ndarray, labels: np.ndarray, palette,
                   opacity: float) -> np.ndarray:
    """``image_rgb`` with ``palette[label]`` blended in where the label has
    a colour (labels past the palette, e.g. 255, stay uncoloured)."""
    palette = np.asarray(palette, np.uint8).reshape(-1, 3)
    known = labels < len(palette)
    return blend_colours(image_rgb, palette[np.where(known, labels, 0)],
                         opacity, known)


def draw_label_levels(meta: dict,
                      image_rgb: np.ndarray,
                      objects: np.ndarray,
                      parts: Optional[np.ndarray] = None,
                      materials: Optional[np.ndarray] = None,
                      opacity: float = 0.5) -> Dict[str, np.ndarray]:
    """Colour overlays (RGB) of label maps of every pixel level, predicted
    or ground truth.

    Args:
        meta (dict): ``palette``, ``classes`` and, for the levels drawn,
            ``part_palette`` (object name: colours of its parts) and
            ``material_palette``.
        image_rgb (np.ndarray): The image, (H, W, 3) RGB.
        objects (np.ndarray): (H, W) object labels.
        parts (np.ndarray, optional): (H, W) part index within the group of
            the pixel's object (:data:`NO_PART` where there is none).
        materials (np.ndarray, optional): (H, W) material labels.
        opacity (float): Weight of the class colours. Default: 0.5.

    Returns:
        dict: ``object``, ``part`` (parts in their object's part colours)
        and ``material`` overlays, for the maps given. A pixel whose label
        has no colour (the ignore index 255, :data:`NO_PART`, an object
        without parts) keeps the image's colour.
    """
    for name, labels in (('objects', objects), ('parts', parts), ('materials',
                                                                  materials)):
        if labels is not None and labels.shape != image_rgb.shape[:2]:
            raise ValueError(f'the {name} map is {labels.shape} but the '
                             f'image is {image_rgb.shape[:2]}')
    drawn = dict(
        object=_colour_labels(image_rgb, objects, meta['palette'], opacity))
    if parts is not None:
        colours = np.zeros(image_rgb.shape, np.uint8)
        coloured = np.zeros(objects.shape, bool)
        for obj_index, name in enumerate(meta['classes']):
            part_palette = np.asarray(
                meta.get('part_palette', {}).get(name, []),
                np.uint8).reshape(-1, 3)
            where = (objects == obj_index) & (parts < len(part_palette))
            colours[where] = part_palette[parts[where]]
            coloured |= where
        drawn['part'] = blend_colours(image_rgb, colours, opacity, coloured)
    if materials is not None:
        drawn['material'] = _colour_labels(image_rgb, materials,
                                           meta['material_palette'], opacity)
    return drawn


def draw_levels(model,
                image_rgb: np.ndarray,
                result,
                opacity: float = 0.5) -> Dict[str, np.ndarray]:
    """Colour overlays (RGB) of every pixel level of one prediction
    (:func:`draw_label_levels` of its maps).

    Args:
        model (nn.Module): Its ``dataset_meta`` gives names and palettes.
        image_rgb (np.ndarray): The input image, (H, W, 3) RGB.
        result (SegDataSample): The prediction at the image's size.
        opacity (float): Weight of the class colours. Default: 0.5.

    Returns:
        dict: ``object``, ``part`` (parts in their object's part colours;
        pixels of objects without parts left as they are) and ``material``
        overlays, for the levels the model predicts.
    """
    maps = {
        name: _to_numpy(result.get(key).data[0]) if key in result else None
        for name, key in (('objects', 'pred_sem_seg'),
                          ('parts', 'pred_part_seg'), ('materials',
                                                       'pred_material_seg'))
    }
    return draw_label_levels(
        model.dataset_meta, image_rgb, opacity=opacity, **maps)


def _top(score, names, k: int) -> List[dict]:
    score = _to_numpy(score).astype(float)
    order = np.argsort(-score, kind='stable')[:k]
    return [
        dict(index=int(i), name=names[i], score=round(float(score[i]), 6))
        for i in order
    ]


def summarize_levels(model, result, topk: int = 5) -> dict:
    """Per-image summary of the levels other than objects: ``parts``
    (object, part, pixel fraction), ``materials`` (pixel fractions),
    ``scene`` and ``texture`` (top-``topk`` classes with their scores)."""
    meta = model.dataset_meta
    out = {}
    objects = _to_numpy(result.pred_sem_seg.data[0])
    if 'pred_part_seg' in result:
        parts = _to_numpy(result.pred_part_seg.data[0])
        keyed = objects.astype(np.int64) * 256 + parts
        keyed = keyed[parts != NO_PART]
        ids, counts = np.unique(keyed, return_counts=True)
        order = np.argsort(-counts, kind='stable')
        out['parts'] = [
            dict(
                object=meta['classes'][ids[i] // 256],
                part=meta['part_classes'][meta['classes'][ids[i] //
                                                          256]][ids[i] % 256],
                index=int(ids[i] % 256),
                fraction=round(float(counts[i]) / objects.size, 6))
            for i in order
        ]
    if 'pred_material_seg' in result:
        out['materials'] = class_fractions(
            _to_numpy(result.pred_material_seg.data[0]),
            meta['material_classes'])
    for task in ('scene', 'texture'):
        pred = result.get(f'pred_{task}')
        if pred is not None:
            out[task] = _top(pred.score, meta[f'{task}_classes'], topk)
    return out


def _caption(tile: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((22, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0),
                1, cv2.LINE_AA)
    return np.concatenate([bar, tile], axis=0)


def level_panel(image_rgb: np.ndarray,
                drawn: Dict[str, np.ndarray],
                summary: dict,
                min_height: int = 256) -> np.ndarray:
    """One RGB picture of all levels: the image, the object, part and
    material overlays side by side (enlarged to at least ``min_height``
    rows), scene and texture top-3 with scores below."""
    scale = max(1, int(np.ceil(min_height / image_rgb.shape[0])))

    def big(tile):
        return cv2.resize(
            tile, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)

    tiles = [_caption(big(image_rgb), 'image')]
    for level in ('object', 'part', 'material'):
        if level in drawn:
            tiles.append(_caption(big(drawn[level]), f'{level}s'))
    row = np.concatenate([
        np.pad(t, ((0, 0), (0, 4), (0, 0)), constant_values=255) for t in tiles
    ],
                         axis=1)
    lines = []
    for task in ('scene', 'texture'):
        if task in summary:
            lines.append(f'{task}: ' +
                         ', '.join(f'{c["name"]} {c["score"]:.2f}'
                                   for c in summary[task][:3]))
    text = np.full((22 * len(lines) + 4, row.shape[1], 3), 255, np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(text, line, (4, 18 + 22 * i), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([row, text], axis=0)


def _write(path: str, array: np.ndarray) -> str:
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    if not mmcv.imwrite(array, path):
        raise OSError(f'cannot write {path}')
    return path


def write_levels(model,
                 img_bgr: np.ndarray,
                 result,
                 out_dir: str,
                 stem: str,
                 opacity: float = 0.5,
                 overlays: bool = True,
                 topk: int = 5) -> dict:
    """Write the part and material masks of one prediction (and with
    ``overlays`` their colour overlays and the panel of all levels) under
    ``out_dir``; return the summary entry of the image.

    Files: ``part_masks/STEM.png`` (uint8, part index within the predicted
    object's group, 255 = no part; read it with ``masks/STEM.png``),
    ``material_masks/STEM.png``, ``part_overlays/STEM.png``,
    ``material_overlays/STEM.png`` and ``levels/STEM.png``.
    """
    entry = summarize_levels(model, result, topk)
    if 'pred_part_seg' in result:
        entry['part_mask'] = _write(
            osp.join(out_dir, 'part_masks', stem + '.png'),
            _to_numpy(result.pred_part_seg.data[0]).astype(np.uint8))
    if 'pred_material_seg' in result:
        entry['material_mask'] = _write(
            osp.join(out_dir, 'material_masks', stem + '.png'),
            _to_numpy(result.pred_material_seg.data[0]).astype(np.uint8))
    if overlays:
        image_rgb = mmcv.bgr2rgb(img_bgr)
        drawn = draw_levels(model, image_rgb, result, opacity)
        for level in ('part', 'material'):
            if level in drawn:
                entry[f'{level}_overlay'] = _write(
                    osp.join(out_dir, f'{level}_overlays', stem + '.png'),
                    mmcv.rgb2bgr(drawn[level]))
        entry['levels'] = _write(
            osp.join(out_dir, 'levels', stem + '.png'),
            mmcv.rgb2bgr(level_panel(image_rgb, drawn, entry)))
    return entry
