"""Class-weighted cross entropy that ignores labels, for mmseg's
``CrossEntropyLoss(class_weight=...)``.

mmseg 1.2.2's ``cross_entropy`` computes its average factor as
``class_weight[label]`` over every label value, the ignore index included,
so a class-weighted ``CrossEntropyLoss`` fails with ``IndexError: index 11
is out of bounds`` (or 255) on the first label map that has an ignored
pixel. :func:`use_class_weighted_cross_entropy` gives such a loss module the
criterion below; the module stays mmseg's ``CrossEntropyLoss``, with its
config keys, ``loss_weight`` and ``loss_name``.
"""
from typing import Iterable, Optional

import torch
import torch.nn.functional as F
from mmseg.models.losses import CrossEntropyLoss
from torch import Tensor


def class_weighted_cross_entropy(pred: Tensor,
                                 label: Tensor,
                                 weight: Optional[Tensor] = None,
                                 class_weight: Optional[Tensor] = None,
                                 reduction: str = 'mean',
                                 avg_factor: Optional[float] = None,
                                 ignore_index: int = -100,
                                 avg_non_ignore: bool = False) -> Tensor:
    """Cross entropy with class weights, as PyTorch defines it.

    With ``reduction='mean'`` and no pixel ``weight`` this is
    ``F.cross_entropy(pred, label, weight=class_weight,
    ignore_index=ignore_index)``: the sum of ``class_weight[label] * ce``
    over the labelled pixels divided by the sum of their class weights, so
    ignored pixels count neither in the sum nor in the divisor (whatever
    ``avg_non_ignore`` says: it is accepted for the signature of mmseg's
    ``cross_entropy``). A pixel ``weight`` (from a pixel sampler) multiplies
    both. A batch without labelled pixels gives 0, not NaN. Computed in
    float32, also under bfloat16 autocast.

    Args:
        pred (Tensor): Logits (N, C, ...).
        label (Tensor): Class indices (N, ...); ``ignore_index`` is ignored.
        weight (Tensor, optional): Per-pixel weights (N, ...).
        class_weight (Tensor, optional): Weight of each class, shape (C,).
        reduction (str): 'mean', 'sum' or 'none'.
        avg_factor (float, optional): Divisor of the sum for 'mean'
            instead of the sum of the weights.
        ignore_index (int): Label value to ignore.
        avg_non_ignore (bool): Unused (see above).

    Returns:
        Tensor: The loss (a scalar, or per pixel for 'none').
    """
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f'class_weighted_cross_entropy: reduction must be '
                         f"'mean', 'sum' or 'none', got {reduction!r}")
    if class_weight is not None:
        class_weight = class_weight.float()
    loss = F.cross_entropy(
        pred.float(),
        label,
        weight=class_weight,
        reduction='none',
        ignore_index=ignore_index)
    valid = label != ignore_index
    # the divisor of 'mean': each labelled pixel counts with its class weight
    pixel_weight = valid.float()
    if class_weight is not None:
        pixel_weight = pixel_weight * class_weight[label.clamp(0) * valid]
    if weight is not None:
        loss = loss * weight.float()
        pixel_weight = pixel_weight * weight.float()
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if avg_factor is None:
        avg_factor = pixel_weight.sum()
    # no labelled pixel: 0 (with a gradient of 0), not 0 / 0
    return loss.sum() / torch.clamp(
        torch.as_tensor(avg_factor, dtype=loss.dtype, device=loss.device),
        min=torch.finfo(loss.dtype).eps)


def use_class_weighted_cross_entropy(losses: Iterable) -> int:
    """Give every softmax ``CrossEntropyLoss`` with ``class_weight`` among
    ``losses`` the criterion :func:`class_weighted_cross_entropy`.

    Losses of other types, sigmoid or mask cross entropy and losses without
    class weights are left as mmseg builds them.

    Returns:
        int: How many losses were changed.
    """
    changed = 0
    for loss in losses:
        if (isinstance(loss, CrossEntropyLoss)
                and loss.class_weight is not None and not loss.use_sigmoid
                and not loss.use_mask):
            loss.cls_criterion = class_weighted_cross_entropy
            changed += 1
    return changed
