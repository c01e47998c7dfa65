"""Build-time check that a segmentor's heads select feature maps that exist
and have the channels the heads were configured for.

Without it, a head whose ``in_channels`` disagree with the backbone fails at
the first forward (for mmseg's heads, inside a convolution, with a message
about weights and inputs). :func:`check_head_inputs` runs the backbone (and
neck) once on a small zero image when the segmentor is built and compares.
"""
import logging
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log

DRY_RUN_SIZE = (64, 64)


def _input_channels(module: nn.Module) -> int:
    conv = next(
        (m
         for m in module.modules() if isinstance(m, nn.modules.conv._ConvNd)),
        None)
    return conv.in_channels if conv is not None else 3


def feature_channels(
        segmentor,
        size: Tuple[int, int] = DRY_RUN_SIZE) -> Optional[List[int]]:
    """Channels of the feature maps that ``segmentor.extract_feat`` returns.

    The backbone (and neck) run once, without gradients and in eval mode, on
    a zero image of ``size``; the train/eval flags of all modules are
    restored afterwards.

    Args:
        segmentor (nn.Module): A segmentor with ``extract_feat`` and
            ``backbone``.
        size (tuple[int, int]): Height and width of the dry-run image.

    Returns:
        list[int] | None: One channel count per feature map, or None when the
        dry run is not possible (the backbone needs another input size or a
        GPU, or does not return a sequence of 4-D maps).
    """
    modes = [(m, m.training) for m in segmentor.modules()]
    image = torch.zeros(1, _input_channels(segmentor.backbone), *size)
    try:
        segmentor.eval()
        with torch.no_grad():
            feats = segmentor.extract_feat(image)
    except Exception as error:  # the check must never break a valid model
        print_log(
            f'Head input check skipped: the dry run of the backbone '
            f'on a {size} image failed ({error!r}); a head whose '
            'in_channels disagree with the backbone fails at the first '
            'forward instead',
            logger='current',
            level=logging.WARNING)
        return None
    finally:
        for module, training in modes:
            module.training = training
    if isinstance(feats, torch.Tensor):
        feats = [feats]
    if not isinstance(feats, (list, tuple)) or not all(
            isinstance(f, torch.Tensor) and f.dim() == 4 for f in feats):
        return None
    return [int(f.shape[1]) for f in feats]


def _heads(segmentor):
    for field in ('decode_head', 'auxiliary_head'):
        head = getattr(segmentor, field, None)
        if isinstance(head, nn.ModuleList):
            for i, item in enumerate(head):
                yield f'{field}[{i}]', item
        elif head is not None:
            yield field, head


def _selected(head):
    """(in_index list, channels per level or None, total channels)."""
    levels = getattr(head, '_expected_levels', None)  # CheckedDecodeHead
    if levels is not None:
        return [i for i, _ in levels], [c for _, c in levels], None
    index, channels = head.in_index, head.in_channels
    if isinstance(index, int):
        return [index], [channels], None
    if head.input_transform == 'resize_concat':  # mmseg keeps only the sum
        return list(index), None, channels
    return list(index), list(channels), None


def check_head_inputs(
        segmentor,
        size: Tuple[int, int] = DRY_RUN_SIZE) -> Optional[List[int]]:
    """Raise if a head selects a missing feature map or expects other
    channels than the backbone (and neck) give.

    Args:
        segmentor (nn.Module): A built segmentor (``EncoderDecoder``).
        size (tuple[int, int]): Height and width of the dry-run image.

    Returns:
        list[int] | None: The feature channels, None if not determinable.

    Raises:
        ValueError: Naming the head, its ``in_channels`` and ``in_index``,
            and the channels of the backbone's feature maps.
    """
    channels = feature_channels(segmentor, size)
    if channels is None:
        return None
    source = type(segmentor.backbone).__name__
    if getattr(segmentor, 'neck', None) is not None:
        source += ' + ' + type(segmentor.neck).__name__
    for field, head in _heads(segmentor):
        if not hasattr(head, 'in_index'):
            continue
        index, expected, total = _selected(head)
        if expected is None:
            shown = head.in_channels
        elif isinstance(head.in_index, (list, tuple)):
            shown = expected
        else:
            shown = expected[0]
        what = (f'{type(head).__name__} (model.{field}) in_channels={shown} '
                f'with in_index={head.in_index}')
        got = (f'the {source} output has {len(channels)} feature maps with '
               f'channels {channels}')
        bad = [i for i in index if not -len(channels) <= i < len(channels)]
        if bad:
            raise ValueError(f'{what} selects feature map(s) {bad}, but {got}')
        selected = [channels[i] for i in index]
        if expected is None:
            if sum(selected) != total:
                raise ValueError(
                    f'{what} expects {total} channels in total (resize_concat)'
                    f', but {got}, and the selected ones sum to '
                    f'{sum(selected)} ({selected})')
        elif selected != expected:
            raise ValueError(
                f'{what} does not match the backbone: {got}; the selected '
                f'maps have channels {selected}. Set in_channels={selected} '
                f'or change in_index')
    return channels
