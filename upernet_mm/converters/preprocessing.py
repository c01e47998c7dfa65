"""Image normalisation: transformers image-processor config <->
mm ``SegDataPreProcessor``.

mm normalises 0-255 pixels as ``(x - mean) / std``; a transformers image
processor as ``(x * rescale_factor - image_mean) / image_std``, i.e. with
``mean = image_mean / rescale_factor`` and ``std = image_std /
rescale_factor``. Both feed RGB to the model: mm loads BGR images and
converts them (``bgr_to_rgb=True``).
"""
from typing import Any, Dict, List, Optional, Tuple

from .rules import UnsupportedOptionError, expect, strip_scope

IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]
HF_IMAGE_PROCESSOR = 'SegformerImageProcessor'


def _round(values) -> List[float]:
    return [round(float(v), 6) for v in values]


def data_preprocessor_to_mm(processor: Optional[Dict[str, Any]],
                            origin: str) -> Tuple[Dict[str, Any], List]:
    """An mm ``SegDataPreProcessor`` config from a preprocessor config.

    Args:
        processor (dict | None): ``preprocessor_config.json``, if present.
        origin (str): Its path, for errors.

    Returns:
        tuple[dict, list[str]]: The config and notes.
    """
    notes = []
    if processor is None:
        mean, std = IMAGENET_MEAN, IMAGENET_STD
        notes.append(f'no preprocessor config in {origin}; using the '
                     'ImageNet mean/std of the base configs')
    else:
        scale = processor.get('rescale_factor', 1 / 255) \
            if processor.get('do_rescale', True) else 1.0
        if processor.get('do_normalize', True):
            mean = processor.get('image_mean', [0.485, 0.456, 0.406])
            std = processor.get('image_std', [0.229, 0.224, 0.225])
        else:
            mean, std = [0.0] * 3, [1.0] * 3
        if isinstance(mean, (int, float)):
            mean = [mean] * 3
        if isinstance(std, (int, float)):
            std = [std] * 3
        mean = _round(m / scale for m in mean)
        std = _round(s / scale for s in std)
        if processor.get('do_resize'):
            notes.append(f'{origin}: do_resize/size are not part of the mm '
                         'model; the written test_pipeline resizes the same '
                         'way')
    return dict(
        type='SegDataPreProcessor',
        mean=mean,
        std=std,
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255), notes


def resize_from_processor(
        processor: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """An mm ``Resize`` transform equal to the processor's resize, if any
    (a fixed ``height``/``width``)."""
    if not processor or not processor.get('do_resize'):
        return None
    size = processor.get('size') or {}
    if isinstance(size, int):
        size = dict(height=size, width=size)
    if 'height' in size and 'width' in size:
        return dict(
            type='Resize',
            scale=(size['width'], size['height']),
            keep_ratio=False)
    return None


def _pipeline(cfg) -> List[Dict]:
    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        loader = cfg.get('test_dataloader') or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline')
    return list(pipeline or [])


def image_processor_to_hf(cfg) -> Tuple[Dict[str, Any], List[str]]:
    """``SegformerImageProcessor`` arguments of an mm config.

    The normalisation is the model's ``data_preprocessor``'s. A test
    pipeline ``Resize`` with ``keep_ratio=False`` becomes ``size``; other
    resizing is left out (``do_resize=False``) with a note.

    Args:
        cfg (Config): The mm config.

    Returns:
        tuple[dict, list[str]]: The arguments and notes.
    """
    notes = []
    pre = dict(
        cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor')
        or {})
    mean = pre.get('mean') or [0.0, 0.0, 0.0]
    std = pre.get('std') or [1.0, 1.0, 1.0]
    if len(mean) != 3 or len(std) != 3:
        raise UnsupportedOptionError(
            f'model.data_preprocessor mean={mean} std={std}: transformers '
            'image processors normalise 3 RGB channels')
    # mm loads images as BGR; either flag flips them to RGB, as
    # transformers image processors feed them
    flip = bool(pre.get('bgr_to_rgb', False) or pre.get('rgb_to_bgr', False))
    expect(
        flip, [True], 'model.data_preprocessor.bgr_to_rgb',
        'without it the model is fed BGR images, while transformers '
        'image processors feed RGB')
    args = dict(
        do_resize=False,
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=_round(m / 255 for m in mean),
        image_std=_round(s / 255 for s in std),
        do_reduce_labels=False)
    for t in _pipeline(cfg):
        kind = strip_scope(t.get('type'))
        if kind == 'Resize':
            scale = t.get('scale')
            if not t.get('keep_ratio', False) and isinstance(
                    scale, (list, tuple)) and len(scale) == 2:
                args.update(
                    do_resize=True,
                    size=dict(height=int(scale[1]), width=int(scale[0])))
            else:
                notes.append(
                    f'test pipeline {dict(t)!r} is not carried over: '
                    'SegformerImageProcessor resizes to a fixed size only; '
                    'the image processor does not resize (do_resize=False)')
        elif kind == 'LoadAnnotations' and t.get('reduce_zero_label'):
            args['do_reduce_labels'] = True
    for dataset in _test_datasets(cfg):
        if dataset.get('reduce_zero_label'):
            args['do_reduce_labels'] = True
    return args, notes


def _test_datasets(cfg) -> List[Dict]:
    loader = cfg.get('test_dataloader') or {}
    dataset = loader.get('dataset')
    return [dataset] if dataset else []
