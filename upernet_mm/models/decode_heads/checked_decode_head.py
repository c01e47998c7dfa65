from numbers import Integral

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor

from ..losses.class_weighted_cross_entropy import \
    use_class_weighted_cross_entropy

_TRANSFORMS = (None, 'resize_concat', 'multiple_select')


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


class LabelValueError(ValueError):
    """A ground-truth label value the loss cannot take (a class id >=
    ``num_classes`` that is not the ignore index)."""


def check_label_values(data_samples,
                       num_classes: int,
                       ignore_index: int,
                       head: str = 'head') -> None:
    """Raise if a ground-truth map of a batch holds a value that is not a
    class index below ``num_classes`` or ``ignore_index``.

    The loss would fail on it with a raw ``IndexError: Target N is out of
    bounds`` (a device-side assert on GPU), naming neither the file nor the
    value's meaning.

    Args:
        data_samples (list[SegDataSample]): The batch, with ``gt_sem_seg``
            and the ``img_path``/``seg_map_path`` of each sample.
        num_classes (int): Classes the head predicts.
        ignore_index (int): Label value the loss ignores.
        head (str): Name of the head, for the message.

    Raises:
        LabelValueError: Naming each annotation file at fault with its bad
            values and pixel counts.
    """
    bad_files = []
    for sample in data_samples:
        label = sample.gt_sem_seg.data
        bad = (label >= num_classes) | (label < 0)
        if ignore_index is not None:
            bad &= label != ignore_index
        if not bool(bad.any()):
            continue
        values, counts = torch.unique(label[bad], return_counts=True)
        shown = ', '.join(f'{int(v)} ({int(c)} pixels)'
                          for v, c in zip(values[:10], counts[:10]))
        meta = sample.metainfo
        name = meta.get('seg_map_path') or meta.get('img_path') or \
            '(sample without file name)'
        bad_files.append(f'{name}: {shown}')
    if bad_files:
        raise LabelValueError(
            f'{head}: the ground truth of this training batch holds label '
            f'value(s) outside 0..{num_classes - 1} (num_classes='
            f'{num_classes}) that are not the ignore index {ignore_index}:'
            '\n  ' + '\n  '.join(bad_files) + '\nTraining stopped before '
            'the weights were updated with this batch. Fix the annotation '
            'or num_classes; `tools/train.py CONFIG --check-data` lists '
            'every bad file of the dataset before training.')


class CheckedDecodeHead(BaseDecodeHead):
    """mmseg's :class:`BaseDecodeHead` with arguments and inputs checked.

    Bad arguments raise ``ValueError``/``TypeError`` at build time, naming the
    head and the field, instead of mmseg's bare ``assert``. At forward, a
    missing feature map or a channel count that disagrees with
    ``in_channels`` raises ``ValueError`` naming the head, the level, the
    expected and the received shape, instead of a shape error deep inside a
    convolution. Before the loss, a ground-truth value that is neither a
    class index nor ``ignore_index`` raises :class:`LabelValueError` naming
    the annotation file and the value, instead of the loss's raw
    ``IndexError``. Losses, sampling, ``cls_seg`` and prediction are
    mmseg's, except that an mmseg ``CrossEntropyLoss`` with
    ``class_weight`` computes its mean as PyTorch's ``cross_entropy`` does,
    over the labelled pixels (mmseg's fails on the first ignored pixel; see
    :func:`~upernet_mm.models.losses.class_weighted_cross_entropy`).

    Args:
        in_channels (int | Sequence[int]): Channels of the selected inputs.
        channels (int): Channels of the head's hidden layers, > 0.
        **kwargs: Other arguments of :class:`BaseDecodeHead`.
    """

    def __init__(self, in_channels, channels, **kwargs):
        if not _is_int(channels) or channels <= 0:
            raise ValueError(f'{type(self).__name__}: channels must be a '
                             f'positive int, got {channels!r}')
        super().__init__(in_channels, channels, **kwargs)
        losses = self.loss_decode if isinstance(
            self.loss_decode, nn.ModuleList) else [self.loss_decode]
        use_class_weighted_cross_entropy(losses)

    def _init_inputs(self, in_channels, in_index, input_transform):
        name = type(self).__name__
        if input_transform not in _TRANSFORMS:
            raise ValueError(f'{name}: input_transform must be one of '
                             f'{_TRANSFORMS}, got {input_transform!r}')
        if input_transform is None:
            if not _is_int(in_channels) or in_channels <= 0:
                raise ValueError(
                    f'{name}: in_channels must be a positive int when one '
                    f'feature map is selected, got {in_channels!r}')
            if not _is_int(in_index):
                raise ValueError(
                    f'{name}: in_index must be an int when one feature map '
                    f'is selected, got {in_index!r}')
            levels = [(in_index, in_channels)]
        else:
            if not isinstance(in_channels, (list, tuple)) or not in_channels:
                raise ValueError(
                    f'{name}: in_channels must be a non-empty list of '
                    f'channel counts, one per selected level, got '
                    f'{in_channels!r}')
            if not isinstance(in_index, (list, tuple)):
                raise ValueError(
                    f'{name}: in_index must be a list of level indices, one '
                    f'per entry of in_channels, got {in_index!r}')
            if len(in_channels) != len(in_index):
                raise ValueError(
                    f'{name}: in_channels has {len(in_channels)} entries '
                    f'{list(in_channels)} but in_index has {len(in_index)} '
                    f'entries {list(in_index)}; give one channel count per '
                    f'selected level')
            bad = [c for c in in_channels if not _is_int(c) or c <= 0]
            if bad:
                raise ValueError(f'{name}: in_channels must hold positive '
                                 f'ints, got {list(in_channels)}')
            bad = [i for i in in_index if not _is_int(i)]
            if bad:
                raise ValueError(f'{name}: in_index must hold ints, got '
                                 f'{list(in_index)}')
            levels = list(zip(in_index, in_channels))
        # (backbone output index, expected channels) per selected level
        self._expected_levels = levels
        super()._init_inputs(in_channels, in_index, input_transform)

    def _check_inputs(self, inputs):
        """Raise ``ValueError`` if ``inputs`` do not match the config."""
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f'{name} expects a list of feature maps (N, C, H, W), got '
                f'{type(inputs).__name__}')
        num_inputs = len(inputs)
        for level, (index, channels) in enumerate(self._expected_levels):
            if not -num_inputs <= index < num_inputs:
                shapes = [tuple(x.shape) for x in inputs]
                raise ValueError(
                    f'{name}: level {level} selects feature map {index} '
                    f'(in_index={self.in_index}) but {num_inputs} feature '
                    f'maps were received, with shapes {shapes}')
            x = inputs[index]
            if not isinstance(x, Tensor) or x.dim() != 4 \
                    or x.shape[1] != channels:
                shape = tuple(x.shape) if isinstance(x, Tensor) else type(x)
                raise ValueError(
                    f'{name}: level {level} (feature map {index}) expected '
                    f'shape (N, {channels}, H, W) from in_channels='
                    f'{self._in_channels_arg()}, received {shape}')

    def _in_channels_arg(self):
        channels = [c for _, c in self._expected_levels]
        return channels if self.input_transform is not None else channels[0]

    def _transform_inputs(self, inputs):
        self._check_inputs(inputs)
        return super()._transform_inputs(inputs)

    def loss_by_feat(self, seg_logits, batch_data_samples):
        check_label_values(batch_data_samples, self.num_classes,
                           self.ignore_index,
                           type(self).__name__)
        return super().loss_by_feat(seg_logits, batch_data_samples)
