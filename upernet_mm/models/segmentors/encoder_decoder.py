"""``UPerEncoderDecoder``: mmseg's ``EncoderDecoder`` with checked
``test_cfg``, checked head inputs and batched sliding-window inference."""
from typing import List, Tuple

import torch
from mmseg.models.segmentors import EncoderDecoder as MMSegEncoderDecoder
from torch import Tensor

from upernet_mm.registry import MODELS
from ..head_input_check import check_head_inputs


def _is_pair(value) -> bool:
    return (isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0
        for v in value))


def check_test_cfg(test_cfg) -> None:
    """Check the inference settings of a ``UPerEncoderDecoder``.

    Args:
        test_cfg (dict | None): ``mode`` ('whole' or 'slide'); for 'slide'
            ``crop_size`` and ``stride`` as (h, w) pairs of positive ints and
            an optional ``batch_size`` (positive int, crops per forward).

    Raises:
        ValueError: Naming the field and the value at fault.
    """
    if test_cfg is None:
        return
    mode = test_cfg.get('mode', 'whole')
    if mode not in ('whole', 'slide'):
        raise ValueError(
            'UPerEncoderDecoder: test_cfg.mode must be "whole" or '
            f'"slide", got {mode!r}')
    batch_size = test_cfg.get('batch_size')
    if mode == 'whole':
        if batch_size is not None:
            raise ValueError(
                'UPerEncoderDecoder: test_cfg.batch_size (crops per forward) '
                'only applies to mode="slide", but mode is "whole"')
        return
    for field in ('crop_size', 'stride'):
        if not _is_pair(test_cfg.get(field)):
            raise ValueError(
                f'UPerEncoderDecoder: test_cfg.{field} must be a pair '
                f'(h, w) of '
                f'positive ints for mode="slide", got '
                f'{test_cfg.get(field)!r}')
    if batch_size is not None and (not isinstance(batch_size, int)
                                   or isinstance(batch_size, bool)
                                   or batch_size <= 0):
        raise ValueError('UPerEncoderDecoder: test_cfg.batch_size must be a '
                         f'positive int or None, got {batch_size!r}')


def slide_windows(img_size: Tuple[int, int], crop_size: Tuple[int, int],
                  stride: Tuple[int, int]) -> List[Tuple[int, int, int, int]]:
    """Windows ``(y1, y2, x1, x2)`` of mmseg's sliding-window inference, in
    its order (rows, then columns); the last row and column are shifted
    back to end at the image border, and a crop larger than the image is
    clipped to it.

    Args:
        img_size (tuple[int, int]): Image (h, w).
        crop_size (tuple[int, int]): Window (h, w).
        stride (tuple[int, int]): Step (h, w).
    """
    (h_img, w_img), (h_crop, w_crop), (h_stride, w_stride) = \
        img_size, crop_size, stride
    h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
    w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
    windows = []
    for h_idx in range(h_grids):
        for w_idx in range(w_grids):
            y2 = min(h_idx * h_stride + h_crop, h_img)
            x2 = min(w_idx * w_stride + w_crop, w_img)
            windows.append((max(y2 - h_crop, 0), y2, max(x2 - w_crop, 0), x2))
    return windows


@MODELS.register_module()
class UPerEncoderDecoder(MMSegEncoderDecoder):
    """mmseg's ``EncoderDecoder`` with ``test_cfg`` checked at build time and
    ``test_cfg.batch_size`` for sliding-window inference.

    At build time it also checks that the heads' ``in_channels`` and
    ``in_index`` match the feature maps of the backbone (and neck), see
    :func:`~upernet_mm.models.head_input_check.check_head_inputs`.

    It has its own name, so ``type='EncoderDecoder'`` keeps meaning mmseg's
    class in every scope; upernet_mm's configs name this one
    (``type='UPerEncoderDecoder'``, ``upernet_mm.UPerEncoderDecoder`` from
    mmseg's scope). Without ``batch_size`` it runs mmseg's code unchanged;
    parameters (and checkpoints) are mmseg's.

    With ``test_cfg=dict(mode='slide', crop_size=..., stride=...,
    batch_size=N)`` the crops of all images in the batch are stacked and
    run ``N`` at a time through :meth:`encode_decode`, instead of one window
    position per forward; the logits are summed in mmseg's order, so the
    result equals mmseg's sliding-window inference (up to float rounding
    of batched convolutions).

    Args:
        **kwargs: Arguments of :class:`mmseg.models.EncoderDecoder`.
    """

    def __init__(self, **kwargs):
        check_test_cfg(kwargs.get('test_cfg'))
        super().__init__(**kwargs)
        # heads vs. backbone channels, by a dry run on a small zero image
        check_head_inputs(self)

    def slide_inference(self, inputs: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """Sliding-window inference, ``test_cfg.batch_size`` crops per
        forward (mmseg's sequential loop when it is unset).

        Args:
            inputs (Tensor): Images, shape (N, C, H, W).
            batch_img_metas (list[dict]): Meta information of each image.

        Returns:
            Tensor: Logits averaged over the windows, (N, classes, H, W).
        """
        check_test_cfg(self.test_cfg)
        batch_size = self.test_cfg.get('batch_size')
        if batch_size is None:
            return super().slide_inference(inputs, batch_img_metas)
        num_imgs, _, h_img, w_img = inputs.shape
        windows = slide_windows((h_img, w_img), self.test_cfg.crop_size,
                                self.test_cfg.stride)
        preds = inputs.new_zeros((num_imgs, self.out_channels, h_img, w_img))
        count = inputs.new_zeros((num_imgs, 1, h_img, w_img))
        # window-major like mmseg, so each pixel sums in the same order
        jobs = [(i, window) for window in windows for i in range(num_imgs)]
        crop_shape = None
        for start in range(0, len(jobs), batch_size):
            chunk = jobs[start:start + batch_size]
            crops = torch.stack(
                [inputs[i, :, y1:y2, x1:x2] for i, (y1, y2, x1, x2) in chunk])
            crop_shape = crops.shape[2:]
            metas = [
                dict(batch_img_metas[i], img_shape=crop_shape)
                for i, _ in chunk
            ]
            logits = self.encode_decode(crops, metas)
            for logit, (i, (y1, y2, x1, x2)) in zip(logits, chunk):
                preds[i, :, y1:y2, x1:x2] += logit
                count[i, :, y1:y2, x1:x2] += 1
        # mmseg leaves the crop shape in the first meta; keep that behaviour
        batch_img_metas[0]['img_shape'] = crop_shape
        return preds / count
