"""Losses of Unified Perceptual Parsing that are safe on batches without
labels: a mean over zero targets is NaN in PyTorch, these return zero."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def masked_cross_entropy(logits: Tensor,
                         labels: Tensor,
                         ignore_index: int = 255) -> Tensor:
    """Cross-entropy averaged over the labelled pixels.

    Args:
        logits (Tensor): (N, C, H, W).
        labels (Tensor): (N, H, W), ``ignore_index`` where not labelled.
        ignore_index (int): Default: 255.

    Returns:
        Tensor: The mean over labelled pixels; zero (with a graph, zero
        gradient) when no pixel is labelled, never NaN.
    """
    mask = labels != ignore_index
    if not mask.any():
        return logits.sum() * 0.0
    return F.cross_entropy(logits.permute(0, 2, 3, 1)[mask], labels[mask])


def image_label_loss(logits: Tensor,
                     labels: Tensor,
                     pixels: Optional[Tensor] = None) -> Tensor:
    """Cross-entropy of image-level labels, averaged over the labelled
    images.

    Args:
        logits (Tensor): (N, C) for one prediction per image, or
            (N, C, H, W) for a prediction at every pixel (the texture
            branch): every pixel of an image is trained on its label and
            the pixels are averaged.
        labels (Tensor): (N,) class per image, -1 = not labelled.
        pixels (Tensor, optional): (N, H, W) bool, with per-pixel logits:
            the pixels to train (e.g. not the padding of the batch); None =
            all.

    Returns:
        Tensor: Zero (with a graph, zero gradient) when no image (or no
        pixel) is labelled, never NaN.
    """
    valid = labels >= 0
    if not valid.any():
        return logits.sum() * 0.0
    if logits.dim() == 4:
        labels = labels[:, None, None].expand(-1, *logits.shape[2:])
        if pixels is None:
            pixels = torch.ones_like(labels, dtype=torch.bool)
        if pixels.shape != labels.shape:
            raise ValueError(
                f'image_label_loss: pixels has shape {tuple(pixels.shape)}, '
                f'the per-pixel logits need {tuple(labels.shape)}')
        mask = pixels & valid[:, None, None]
        if not mask.any():
            return logits.sum() * 0.0
        return F.cross_entropy(logits.permute(0, 2, 3, 1)[mask], labels[mask])
    return F.cross_entropy(logits[valid], labels[valid])
