"""Part classes grouped per object class: one softmax per group.

The part classifier of Unified Perceptual Parsing has one output channel per
(object class, part) pair, laid out object by object: the channels of the
first object class with parts, then those of the next, ... A pixel's part is
read from the group of its object only (the ground-truth object for the
loss, the predicted object at inference), so each group has a softmax of
its own. Part index 0 of every group is "a pixel of this object with no part
label" ("other"), a class that is trained like the others; an object
class whose only part is "other" has a group of one channel (its loss is
zero, its prediction always 0).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor


class PartGroups(nn.Module):
    """Channel layout, loss and prediction of grouped part logits.

    Args:
        num_parts (Sequence[int]): For every object class (in the order of
            the object classifier) its number of part classes, including
            part 0; 0 for object classes without parts; 1 for an object
            class whose part list is only ``('other',)`` (a group of one
            channel: nothing to learn, but its part-0 labels are valid).
        ignore_index (int): Label of pixels without a part label.
            Default: 255.
    """

    def __init__(self, num_parts: Sequence[int], ignore_index: int = 255):
        super().__init__()
        if not isinstance(num_parts, (list, tuple)) or any(
                isinstance(n, bool) or not isinstance(n, int) or n < 0
                for n in num_parts):
            raise ValueError('PartGroups: num_parts must be a list of ints '
                             '>= 0, one per object class, got '
                             f'{num_parts!r}')
        sizes = list(num_parts)
        if not any(sizes):
            raise ValueError('PartGroups: no object class has parts '
                             f'(num_parts={list(num_parts)}); leave the '
                             'part task out instead')
        self.num_parts = tuple(sizes)
        self.ignore_index = ignore_index
        self.num_objects = len(sizes)
        self.num_channels = sum(sizes)
        self.max_parts = max(sizes)
        offsets = [0]
        for n in sizes[:-1]:
            offsets.append(offsets[-1] + n)
        # table[o, k] = channel of part k of object o (0 where k >= parts)
        table = torch.zeros(self.num_objects, self.max_parts, dtype=torch.long)
        valid = torch.zeros(self.num_objects, self.max_parts, dtype=torch.bool)
        for obj, (start, n) in enumerate(zip(offsets, sizes)):
            table[obj, :n] = torch.arange(start, start + n)
            valid[obj, :n] = True
        self.offsets = tuple(offsets)
        self.register_buffer('table', table, persistent=False)
        self.register_buffer('valid', valid, persistent=False)
        self.register_buffer(
            'sizes', torch.tensor(sizes, dtype=torch.long), persistent=False)

    @property
    def objects_with_parts(self):
        """Indices of the object classes that have parts."""
        return [o for o, n in enumerate(self.num_parts) if n]

    def group(self, obj: int) -> slice:
        """Channels of the parts of object class ``obj``."""
        return slice(self.offsets[obj],
                     self.offsets[obj] + self.num_parts[obj])

    def check_labels(self,
                     part_labels: Tensor,
                     object_labels: Tensor,
                     field: str = 'gt_part_seg') -> None:
        """Raise ``ValueError`` for part labels that have no meaning.

        A labelled part pixel (not ``ignore_index``) must lie on an object
        pixel whose class has parts, and its value must be below that
        class's number of parts.

        Args:
            part_labels (Tensor): Part index per pixel, (N, H, W).
            object_labels (Tensor): Object class per pixel, (N, H, W).
            field (str): Name of the part labels, for the message.
        """
        if part_labels.shape != object_labels.shape:
            raise ValueError(
                f'{field} has shape {tuple(part_labels.shape)} but '
                f'gt_sem_seg has shape {tuple(object_labels.shape)}; the '
                'label maps of one image must have the same size')
        labelled = part_labels != self.ignore_index
        if not labelled.any():
            return
        objects = object_labels[labelled]
        parts = part_labels[labelled]
        in_range = (objects >= 0) & (objects < self.num_objects)
        if not in_range.all():
            bad = objects[~in_range][0].item()
            raise ValueError(
                f'{field}: part label {parts[~in_range][0].item()} on a '
                f'pixel whose gt_sem_seg is {bad}, which is not an object '
                f'class with parts (0..{self.num_objects - 1}); a part '
                f'label needs an object label ({self.ignore_index} marks '
                'pixels without a part label)')
        limit = self.sizes[objects]
        bad = (parts < 0) | (parts >= limit)
        if bad.any():
            obj = objects[bad][0].item()
            value = parts[bad][0].item()
            if self.num_parts[obj] == 0:
                raise ValueError(
                    f'{field}: part label {value} on pixels of object class '
                    f'{obj}, which has no parts (num_parts[{obj}] = 0); '
                    f'label them {self.ignore_index}')
            raise ValueError(
                f'{field}: part label {value} on pixels of object class '
                f'{obj}, which has {self.num_parts[obj]} part classes '
                f'(0..{self.num_parts[obj] - 1})')

    def _gather(self, logits_rows: Tensor, objects: Tensor) -> Tensor:
        """Rows (M, C) of part logits -> (M, max_parts) logits of each
        row's object group, ``-inf`` past the group's size."""
        index = self.table[objects]
        gathered = logits_rows.gather(1, index)
        return gathered.masked_fill(~self.valid[objects], float('-inf'))

    def loss(self, part_logits: Tensor, part_labels: Tensor,
             object_labels: Tensor) -> Optional[Tensor]:
        """Cross-entropy of each object's group over its labelled pixels,
        averaged over those pixels, summed over the object classes.

        Args:
            part_logits (Tensor): (N, num_channels, H, W), at the labels'
                size.
            part_labels (Tensor): (N, H, W) part index within the group of
                the pixel's ground-truth object.
            object_labels (Tensor): (N, H, W) ground-truth object classes.

        Returns:
            Tensor | None: The loss, or None if no pixel of an object with
            parts has a part label (a mean over no pixel is undefined).
        """
        if part_logits.shape[1] != self.num_channels:
            raise ValueError(
                f'part logits have {part_logits.shape[1]} channels, the '
                f'groups need {self.num_channels} (num_parts='
                f'{list(self.num_parts)})')
        self.check_labels(part_labels, object_labels)
        mask = part_labels != self.ignore_index
        if not mask.any():
            return None
        objects = object_labels[mask]
        targets = part_labels[mask]
        rows = part_logits.permute(0, 2, 3, 1)[mask]
        gathered = self._gather(rows, objects)
        per_pixel = torch.logsumexp(
            gathered, dim=1) - gathered.gather(1, targets[:, None])[:, 0]
        sums = per_pixel.new_zeros(self.num_objects).index_add(
            0, objects, per_pixel)
        counts = torch.bincount(objects, minlength=self.num_objects)
        present = counts > 0
        return (sums[present] / counts[present].to(sums.dtype)).sum()

    def predict(self, part_logits: Tensor, object_pred: Tensor) -> Tensor:
        """Part index of every pixel within the group of its predicted
        object; ``ignore_index`` where that object has no parts.

        Args:
            part_logits (Tensor): (N, num_channels, H, W).
            object_pred (Tensor): (N, H, W) predicted object classes.

        Returns:
            Tensor: (N, H, W) long.
        """
        n, _, h, w = part_logits.shape
        rows = part_logits.permute(0, 2, 3, 1).reshape(-1, self.num_channels)
        objects = object_pred.reshape(-1)
        out = torch.full_like(objects, self.ignore_index)
        has_parts = self.sizes[objects] > 0
        if has_parts.any():
            gathered = self._gather(rows[has_parts], objects[has_parts])
            out[has_parts] = gathered.argmax(dim=1)
        return out.view(n, h, w)

    def probabilities(self, part_logits: Tensor) -> Tensor:
        """Softmax within every group, (N, num_channels, H, W)."""
        out = torch.empty_like(part_logits)
        for obj in self.objects_with_parts:
            group = self.group(obj)
            out[:, group] = part_logits[:, group].softmax(dim=1)
        return out
