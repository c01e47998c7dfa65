"""Winograd convolution F(m x m, 3 x 3) for 3x3 stride-1 convolutions, as
matrix products in PyTorch.

A 3x3 convolution computes an ``m x m`` output tile from an
``n x n = (m + 2) x (m + 2)`` input tile with ``9 m^2`` multiplications per
channel pair; the Winograd (Toom-Cook) form ``Y = A^T [(G g G^T) * (B^T d
B)] A`` needs ``n^2``: 4 instead of 9 per output for F(2x2, 3x3), 2.25 for
F(4x4, 3x3). Summed over input channels the elementwise product is a matrix
product, so the convolution becomes ``n^2`` GEMMs of ``tiles x in_channels``
by ``in_channels x out_channels`` (one ``torch.bmm`` on MKL), with the
weight transform ``G g G^T`` computed once at deploy time, in float64.

The input and output transforms are matrix products too: the ``n x n``
tiles are gathered from the zero-padded NHWC input (one strided copy) and
multiplied by ``B^T (x) B^T`` (a Kronecker product, ``n^2 x n^2``); the
``n^2`` GEMM outputs are multiplied by ``A^T (x) A^T`` (``m^2 x n^2``).
Tiles are processed in chunks of tile rows, so the transformed copies stay
a few MB whatever the image size.

The matrices are derived from the interpolation points (:func:`matrices`,
:data:`POINTS`), exactly, with fractions; the result is exact in exact
arithmetic. In float32 the rounding error grows with ``m``: on a 512-channel
3x3 conv with unit-variance data and weights of variance ``1/fan_in``, the
largest output error was 1.5e-6 for the direct convolution, 1.3e-6 for
F(2x2, 3x3) and 1.9e-5 for F(4x4, 3x3) with the points below (2.5x smaller
than with Lavin's 0, +-1, +-2).
"""
from fractions import Fraction
from math import gcd, lcm
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule

from .split_conv import SplitInputConvModule

#: Finite interpolation points of F(m, 3); infinity is the last point.
#: For m=4, ``(0, 1, -1, 2, -1/2)`` had the smallest float32 error among
#: points in {0, +-1, +-2, +-1/2, +-3, +-1/3, +-3/2, +-2/3, +-4, +-1/4}
#: but one (2.5x smaller than Lavin's +-2; measured on a 512-channel conv).
POINTS = {
    2: (0, 1, -1),
    3: (0, 1, -1, 2),
    4: (0, 1, -1, 2, Fraction(-1, 2)),
}

#: Smallest input side (height and width) for each tile size; below all of
#: them the convolution runs directly. Measured per layer shape (1 thread,
#: 512 channels): F(4x4) was 2.0-2.3x the direct conv from 32x32 up,
#: F(2x2) 1.8-3.1x at 16x16 where F(4x4) gave 1.6-2.0x.
MIN_SIZE = {2: 8, 4: 24}

#: Tiles per GEMM chunk and thread (rows of tiles are grouped up to about
#: this many times ``torch.get_num_threads()``).
CHUNK_TILES = 64


def _vandermonde(points: Sequence[Fraction], cols: int) -> List[List]:
    """Rows ``[1, a, a^2, ...]`` per point, ``[0, ..., 0, 1]`` for
    infinity (the last row)."""
    rows = [[Fraction(a)**k for k in range(cols)] for a in points]
    rows.append([Fraction(0)] * (cols - 1) + [Fraction(1)])
    return rows


def _inverse(mat: List[List[Fraction]]) -> List[List[Fraction]]:
    """Exact inverse by Gauss-Jordan elimination."""
    n = len(mat)
    aug = [
        list(row) + [Fraction(int(i == j)) for j in range(n)]
        for i, row in enumerate(mat)
    ]
    for col in range(n):
        piv = next(r for r in range(col, n) if aug[r][col] != 0)
        aug[col], aug[piv] = aug[piv], aug[col]
        aug[col] = [v / aug[col][col] for v in aug[col]]
        for r in range(n):
            if r != col and aug[r][col] != 0:
                f = aug[r][col]
                aug[r] = [a - f * b for a, b in zip(aug[r], aug[col])]
    return [row[n:] for row in aug]


def matrices(m: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``A^T`` (m x n), ``G`` (n x 3) and ``B^T`` (n x n) of F(m, 3),
    ``n = m + 2``, in float64: for a signal ``d`` of length ``n`` and a
    filter ``g`` of length 3, the correlation ``y_i = sum_k g_k d_{i+k}``
    is ``A^T ((G g) * (B^T d))``.

    Derivation (Toom-Cook, transposed): with ``V_k`` the Vandermonde matrix
    of the points and infinity with ``k`` columns, ``A^T = V_m^T``,
    ``G = V_3`` and ``B^T = V_n^{-T}``; each row of ``B^T`` is then scaled
    to small integers and ``G``'s row divided by the same factor.

    Args:
        m (int): Outputs per tile, a key of :data:`POINTS`.
    """
    if m not in POINTS:
        raise ValueError(f'winograd: no interpolation points for F({m}, 3);'
                         f' supported tile sizes: {sorted(POINTS)}')
    points = [Fraction(a) for a in POINTS[m]]
    n = m + 2
    at = [list(col) for col in zip(*_vandermonde(points, m))]
    g = _vandermonde(points, 3)
    bt = [list(col) for col in zip(*_inverse(_vandermonde(points, n)))]
    for j, row in enumerate(bt):
        scale = Fraction(lcm(*(v.denominator for v in row)))
        scale /= gcd(*(int(v * scale) for v in row))
        bt[j] = [v * scale for v in row]
        g[j] = [v / scale for v in g[j]]

    def tensor(rows):
        return torch.tensor([[float(v) for v in row] for row in rows],
                            dtype=torch.float64)

    return tensor(at), tensor(g), tensor(bt)


def transform_weight(weight: torch.Tensor, m: int) -> torch.Tensor:
    """``G g G^T`` of a (out, in, 3, 3) weight, computed in float64, as
    (n*n, in, out) in the weight's dtype: the right-hand operands of the
    batched GEMM (index ``i * n + j`` for tile row ``i``, column ``j``)."""
    if weight.dim() != 4 or tuple(weight.shape[2:]) != (3, 3):
        raise ValueError('winograd: expected a (out, in, 3, 3) weight, got '
                         f'{tuple(weight.shape)}')
    _, g, _ = matrices(m)
    u = torch.einsum('ik,ockl,jl->ijco', g, weight.detach().double(), g)
    n = m + 2
    return u.reshape(n * n, weight.shape[1],
                     weight.shape[0]).to(weight.dtype).contiguous()


_KRON: Dict[Tuple[int, torch.dtype], Tuple[torch.Tensor, torch.Tensor]] = {}


def kron_transforms(m: int,
                    dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
    """``B^T (x) B^T`` (n^2 x n^2) and ``A^T (x) A^T`` (m^2 x n^2) in
    ``dtype``, tile entries in row-major order (cached)."""
    key = (m, dtype)
    if key not in _KRON:
        at, _, bt = matrices(m)
        n = m + 2
        kin = torch.einsum('ik,jl->ijkl', bt, bt).reshape(n * n, n * n)
        kout = torch.einsum('ai,bj->abij', at, at).reshape(m * m, n * n)
        _KRON[key] = (kin.to(dtype), kout.to(dtype))
    return _KRON[key]


def winograd_conv2d(parts: Sequence[torch.Tensor],
                    weight: torch.Tensor,
                    m: int,
                    bias: torch.Tensor = None,
                    relu: bool = False,
                    chunk_tiles: Optional[int] = None) -> torch.Tensor:
    """3x3 convolution, stride 1, padding 1, by Winograd F(m x m, 3 x 3).

    Args:
        parts (Sequence[Tensor]): Inputs (N, C_i, H, W) whose channel
            concatenation is the convolution's input (one part for a plain
            convolution; the concatenation is never built). Any memory
            format; ``channels_last`` avoids a copy.
        weight (Tensor): Transformed weight from :func:`transform_weight`,
            (n*n, sum C_i, K).
        m (int): Output tile size.
        bias (Tensor, optional): (K,).
        relu (bool): Apply ReLU to the output. Default: False.
        chunk_tiles (int, optional): Tiles per GEMM chunk. Default:
            :data:`CHUNK_TILES` times the number of threads.

    Returns:
        Tensor: (N, K, H, W) in ``channels_last`` memory format.
    """
    n = m + 2
    kin, kout = kron_transforms(m, weight.dtype)
    batch, _, h, w = parts[0].shape
    th, tw = -(-h // m), -(-w // m)
    channels = sum(p.shape[1] for p in parts)
    if weight.shape[1] != channels:
        raise ValueError(f'winograd_conv2d: input has {channels} channels, '
                         f'the weight {weight.shape[1]}')
    k = weight.shape[2]
    # NHWC views of the parts (no copy for channels_last inputs)
    nhwc = [p.permute(0, 2, 3, 1).to(weight.dtype) for p in parts]
    out = torch.empty(
        batch, th * m, tw * m, k, dtype=weight.dtype, device=weight.device)
    if chunk_tiles is None:
        chunk_tiles = CHUNK_TILES * torch.get_num_threads()
    rows = max(1, min(th, chunk_tiles // max(1, batch * tw)))
    for r0 in range(0, th, rows):
        r = min(rows, th - r0)
        tiles = batch * r * tw
        # input rows of this chunk's tiles, zero-padded (1 before the
        # image, enough after it for whole tiles): only the chunk's rows
        # are copied, so the padded input never exists at full size
        lo, hi = r0 * m - 1, (r0 + r) * m + 1
        gathered = torch.empty(
            n,
            n,
            batch,
            r,
            tw,
            channels,
            dtype=weight.dtype,
            device=weight.device)
        c0 = 0
        for d in nhwc:
            c = d.shape[3]
            block = F.pad(
                d[:, max(lo, 0):min(hi, h)],
                (0, 0, 1, tw * m + 1 - w, max(0, -lo), hi - min(hi, h)))
            s_n, s_h, s_w, s_c = block.stride()
            gathered[..., c0:c0 + c].copy_(
                block.as_strided((n, n, batch, r, tw, c),
                                 (s_h, s_w, s_n, m * s_h, m * s_w, s_c)))
            c0 += c
        v = torch.mm(kin, gathered.view(n * n,
                                        -1)).view(n * n, tiles, channels)
        del gathered
        prod = torch.bmm(v, weight)  # (n*n, tiles, K)
        del v
        y = torch.mm(kout, prod.view(n * n, -1)).view(m, m, batch, r, tw, k)
        dest = out[:, r0 * m:(r0 + r) * m].view(batch, r, m, tw, m, k)
        dest.copy_(y.permute(2, 3, 0, 4, 1, 5))
    # in-place ops, not out=, so that autograd works (test_step runs with
    # gradients enabled unless the caller disables them)
    if bias is not None:
        out.add_(bias)
    if relu:
        out.relu_()
    if th * m != h or tw * m != w:
        out = out[:, :h, :w]
    return out.permute(0, 3, 1, 2)


class WinogradConv2d(nn.Module):
    """Inference replacement of a 3x3, stride 1, padding 1 ConvModule
    (``conv -> act``, BatchNorm already folded) or of a
    :class:`~.split_conv.SplitInputConvModule`, computed
    by :func:`winograd_conv2d`.

    The tile size is chosen per call from the input size: F(4x4, 3x3) when
    both sides are at least ``min_size[4]``, F(2x2, 3x3) when at least
    ``min_size[2]``, otherwise the direct convolution (on small maps the
    transforms cost more than they save). Transformed weights are computed
    in float64 at the first call with each tile size and kept (4x the
    weight for F(4x4), 1.8x for F(2x2)).

    Called with a tensor, or with the list of parts of a concatenated input
    (``accepts_parts``).

    Args:
        module (nn.Module): The ConvModule or SplitInputConvModule.
        min_size (dict[int, int]): Smallest input side for each tile size.
            Default: :data:`MIN_SIZE`.
    """

    accepts_parts = True

    def __init__(self, module: nn.Module, min_size: Dict[int, int] = None):
        super().__init__()
        if isinstance(module, SplitInputConvModule):
            weight = torch.cat([w.detach() for w in module.weights], dim=1)
            bias, splits = module.bias, list(module.splits)
            geometry = (module.stride, module.padding, module.dilation, 1)
            activate = module.activate
        elif isinstance(module, ConvModule) and not module.with_norm and [
                o for o in module.order if o != 'norm'
        ] == ['conv', 'act'] and type(module.conv) is nn.Conv2d \
                and not getattr(module, 'with_explicit_padding', False):
            conv = module.conv
            weight, bias, splits = conv.weight.detach(), conv.bias, None
            geometry = (conv.stride, conv.padding, conv.dilation, conv.groups)
            activate = module.activate if module.with_activation else None
        else:
            raise ValueError('WinogradConv2d replaces a ConvModule (norm '
                             'folded, order conv, act) or a '
                             'SplitInputConvModule')
        if tuple(weight.shape[2:]) != (3, 3) or geometry != ((1, 1), (1, 1),
                                                             (1, 1), 1):
            raise ValueError('WinogradConv2d: needs a 3x3 convolution with '
                             'stride 1, padding 1, dilation 1, groups 1')
        self.weight = nn.Parameter(weight.contiguous(), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(
            bias.detach(), requires_grad=False)
        self.splits = splits
        self.relu = isinstance(activate, nn.ReLU)
        self.activate = None if self.relu else activate
        self.min_size = dict(MIN_SIZE if min_size is None else min_size)
        self.chunk_tiles: Optional[int] = None  # winograd_conv2d's default
        self._transformed: Dict[int, torch.Tensor] = {}

    def tile_size(self, height: int, width: int) -> int:
        """The output tile size used for an input of ``height x width``
        (0: direct convolution)."""
        side = min(height, width)
        fitting = [m for m, s in self.min_size.items() if side >= s]
        return max(fitting) if fitting else 0

    def transformed_weight(self, m: int) -> torch.Tensor:
        """The weight transformed for F(m x m, 3 x 3) (computed once)."""
        if m not in self._transformed:
            self._transformed[m] = transform_weight(self.weight, m)
        return self._transformed[m]

    def forward(self, x):
        parts = list(x) if isinstance(x, (list, tuple)) else [x]
        m = self.tile_size(*parts[0].shape[2:])
        if m:
            out = winograd_conv2d(
                parts,
                self.transformed_weight(m),
                m,
                self.bias,
                relu=self.relu,
                chunk_tiles=self.chunk_tiles)
        else:
            inp = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
            out = F.conv2d(inp, self.weight, self.bias, padding=1)
            if self.relu:
                out = out.relu_()
        return self.activate(out) if self.activate is not None else out


def winograd_head(head: nn.Module,
                  min_size: Dict[int, int] = None) -> List[str]:
    """Replace every 3x3 stride-1 convolution module of a decode head
    (ConvModules with folded norm, and SplitInputConvModules) by
    :class:`WinogradConv2d`, in place.

    Returns:
        list[str]: Names of the replaced modules.
    """
    replaced = []
    for name, module in list(head.named_modules()):
        if not isinstance(module, (ConvModule, SplitInputConvModule)):
            continue
        try:
            new = WinogradConv2d(module, min_size)
        except ValueError:
            continue
        head.set_submodule(name, new)
        replaced.append(name)
    return replaced
