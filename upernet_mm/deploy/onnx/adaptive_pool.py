"""Adaptive average pooling that exports to ONNX for any input size.

``nn.AdaptiveAvgPool2d`` has no ONNX operator (but for output size 1), and
the exporter lowers it with the kernel sizes of the example input: the graph
accepts other sizes but pools them wrongly. Here the bins are computed from
the input size inside the graph: with a zero-led cumulative sum ``S`` along
a dimension of size ``L``, bin ``i`` of ``s`` averages rows
``floor(i L / s)`` to ``ceil((i + 1) L / s)`` (PyTorch's bin rule), which is
``(S[end] - S[start]) / (end - start)``; height and width are pooled one
after the other.
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.utils import _pair


def _pool_dim(x: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    length = x.shape[dim]
    idx = torch.arange(size, device=x.device)
    start = torch.div(idx * length, size, rounding_mode='floor')
    end = torch.div((idx + 1) * length + size - 1, size, rounding_mode='floor')
    pad = [0, 0] * (x.dim() - 1 - dim) + [1, 0]
    cum = F.pad(x.cumsum(dim), pad)
    total = cum.index_select(dim, end) - cum.index_select(dim, start)
    count = (end - start).to(x.dtype)
    shape = [1] * x.dim()
    shape[dim] = size
    return total / count.reshape(shape)


class ExportableAdaptiveAvgPool2d(nn.Module):
    """``nn.AdaptiveAvgPool2d`` written with ops that keep the input size
    symbolic in an exported graph (same results within float rounding).

    Args:
        output_size (int | tuple[int, int]): Output (H, W); ``None``
            entries are not supported.
    """

    def __init__(self, output_size):
        super().__init__()
        size = _pair(output_size)
        if any(not isinstance(s, int) or s <= 0 for s in size):
            raise ValueError('ExportableAdaptiveAvgPool2d: output_size must '
                             f'be positive ints, got {output_size!r}')
        self.output_size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = self.output_size
        return _pool_dim(_pool_dim(x, h, x.dim() - 2), w, x.dim() - 1)


def replace_adaptive_pools(module: nn.Module) -> int:
    """Replace every ``nn.AdaptiveAvgPool2d`` child of ``module`` (at any
    depth) by :class:`ExportableAdaptiveAvgPool2d`, in place.

    Returns:
        int: How many were replaced.
    """
    count = 0
    for name, child in list(module.named_children()):
        if isinstance(child, nn.AdaptiveAvgPool2d):
            setattr(module, name,
                    ExportableAdaptiveAvgPool2d(copy.copy(child.output_size)))
            count += 1
        else:
            count += replace_adaptive_pools(child)
    return count
