"""A convolution over concatenated inputs, computed without concatenating.

``conv(cat([x_1, ..., x_k]), W) = sum_i conv(x_i, W_i)`` where ``W_i`` are
the input-channel slices of ``W``. UPerHead's ``fpn_bottleneck`` (a 3x3
conv over ``levels x channels`` inputs, 2/3 of UPerNet's MACs) runs faster
this way on oneDNN (measured by ``tools/analysis_tools/benchmark.py
--sections layers``), and the concatenated copy is never written.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule


class SplitInputConvModule(nn.Module):
    """Inference replacement of a ConvModule ``conv -> act`` (BatchNorm
    already folded) whose input is a concatenation of parts.

    Called with the list of parts (``accepts_parts`` tells callers so), or
    with the concatenated tensor.

    Args:
        module (ConvModule): The module to replace; its norm must have been
            folded (``with_norm=False``), its order must be conv then act.
        splits (Sequence[int]): Channels of each part, summing to the conv's
            input channels.
    """

    accepts_parts = True

    def __init__(self, module: ConvModule, splits: Sequence[int]):
        super().__init__()
        conv = module.conv
        if module.with_norm or [o for o in module.order if o != 'norm'] != [
                'conv', 'act'
        ] or getattr(module, 'with_explicit_padding', False):
            raise ValueError('SplitInputConvModule needs a ConvModule with '
                             'its norm folded and order conv, act')
        if sum(splits) != conv.in_channels or conv.groups != 1:
            raise ValueError(
                f'SplitInputConvModule: splits {list(splits)} must sum to '
                f'the {conv.in_channels} input channels of an ungrouped conv')
        self.splits = list(splits)
        self.stride, self.padding = conv.stride, conv.padding
        self.dilation = conv.dilation
        weight = conv.weight.detach()
        fmt = torch.channels_last if weight.is_contiguous(
            memory_format=torch.channels_last) else torch.contiguous_format
        self.weights = nn.ParameterList([
            nn.Parameter(w.contiguous(memory_format=fmt), requires_grad=False)
            for w in torch.split(weight, self.splits, dim=1)
        ])
        self.bias = None if conv.bias is None else nn.Parameter(
            conv.bias.detach(), requires_grad=False)
        self.activate = module.activate if module.with_activation else None

    def forward(self, x):
        parts: List[torch.Tensor] = list(x) if isinstance(
            x, (list, tuple)) else list(torch.split(x, self.splits, dim=1))
        if len(parts) != len(self.splits):
            raise ValueError(f'SplitInputConvModule expects {len(self.splits)}'
                             f' parts, got {len(parts)}')
        out = None
        for i, (part, weight) in enumerate(zip(parts, self.weights)):
            y = F.conv2d(part, weight, self.bias if i == 0 else None,
                         self.stride, self.padding, self.dilation)
            out = y if out is None else out.add_(y)
        return self.activate(out) if self.activate is not None else out


def split_fpn_bottleneck(head: nn.Module) -> bool:
    """Replace ``head.fpn_bottleneck`` of a UPerHead (norm folded) by a
    :class:`SplitInputConvModule` over its levels, in place.

    Returns:
        bool: Whether it was replaced (False for heads without a foldable
        ``fpn_bottleneck``).
    """
    module = getattr(head, 'fpn_bottleneck', None)
    if not isinstance(module, ConvModule) or module.with_norm:
        return False
    levels = len(getattr(head, 'in_channels', []))
    if levels < 2 or module.conv.in_channels != levels * head.channels:
        return False
    head.fpn_bottleneck = SplitInputConvModule(module,
                                               [head.channels] * levels)
    return True
