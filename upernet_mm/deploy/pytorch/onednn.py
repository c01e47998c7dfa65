"""Fused oneDNN kernels for the deploy form: a convolution or linear layer
and the activation after it in one call (``torch.ops.mkldnn``, the
operators Inductor's freezing pass emits), and ConvNeXt's layer scale
folded into the linear layer before it.

In eager PyTorch a ReLU or GELU after a convolution or linear layer is one
more pass over the output; oneDNN applies it as a post-op while the result
is still in cache. Measured per layer (1 thread, this host, see
``docs/deploy_and_performance.md``): ConvNeXt-T's first linear layer with
GELU 20.1 -> 9.5 ms in float32 and 5.8 -> 3.5 ms in bfloat16; a 1x1
96 -> 512 convolution with ReLU at 128x128 10.7 -> 2.8 ms in bfloat16.
"""
from typing import List

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from .split_conv import SplitInputConvModule

try:  # the ConvNeXt of mmpretrain, the backbone of the ConvNeXt recipes
    from mmpretrain.models.backbones.convnext import ConvNeXtBlock
except ImportError:  # pragma: no cover - mmpretrain is a dependency
    ConvNeXtBlock = None


def available() -> bool:
    """Whether this PyTorch has oneDNN and its fused operators."""
    return (torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, '_convolution_pointwise')
            and hasattr(torch.ops.mkldnn, '_linear_pointwise'))


def native_bf16() -> bool:
    """Whether the CPU has bfloat16 instructions (AVX512-BF16 or AMX; True
    if this PyTorch cannot tell). Without them oneDNN has no bfloat16
    kernels for the fused operators here ("could not create a primitive
    descriptor") and PyTorch emulates bfloat16 several times slower than
    float32."""
    checks = [
        getattr(torch.cpu, name, None)
        for name in ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
    ]
    checks = [c for c in checks if c is not None]
    return not checks or any(c() for c in checks)


def _frozen(t: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(t.detach().clone(), requires_grad=False)


class FusedConvAct(nn.Module):
    """``relu(conv(x))`` (or ``conv(x)``) as one oneDNN convolution with a
    ReLU post-op.

    Args:
        conv (nn.Conv2d): The convolution (zero padding).
        relu (bool): Apply ReLU to the output.
    """

    def __init__(self, conv: nn.Conv2d, relu: bool = False):
        super().__init__()
        if type(conv) is not nn.Conv2d or conv.padding_mode != 'zeros' \
                or isinstance(conv.padding, str):
            raise ValueError('FusedConvAct needs an nn.Conv2d with numeric '
                             'zero padding')
        self.weight = _frozen(conv.weight)
        self.bias = None if conv.bias is None else _frozen(conv.bias)
        self.padding = list(conv.padding)
        self.stride = list(conv.stride)
        self.dilation = list(conv.dilation)
        self.groups = conv.groups
        self.attr = 'relu' if relu else 'none'

    @classmethod
    def from_conv_module(cls, module: ConvModule) -> 'FusedConvAct':
        """From a ConvModule with its norm folded, order conv then act, and
        ReLU or no activation."""
        act = module.activate if module.with_activation else None
        if module.with_norm or [o for o in module.order if o != 'norm'] != [
                'conv', 'act'
        ] or getattr(module, 'with_explicit_padding', False) \
                or not (act is None or isinstance(act, nn.ReLU)):
            raise ValueError('FusedConvAct replaces a ConvModule with its '
                             'norm folded, order conv, act, and ReLU or no '
                             'activation')
        return cls(module.conv, relu=act is not None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._convolution_pointwise(
            x.to(self.weight.dtype), self.weight, self.bias, self.padding,
            self.stride, self.dilation, self.groups, self.attr, [], '')


class FusedLinear(nn.Module):
    """``act(linear(x))`` as one oneDNN matrix product with a post-op
    (``'gelu'`` with the exact erf form, or ``'none'``), optionally with a
    per-output scale folded into the weight and bias (ConvNeXt's layer
    scale ``gamma``).

    Args:
        linear (nn.Linear): The layer to replace.
        act (str): ``'gelu'`` or ``'none'``.
        scale (Tensor, optional): Per-output-feature factor folded in.
    """

    def __init__(self, linear: nn.Linear, act: str = 'none', scale=None):
        super().__init__()
        if act not in ('gelu', 'none'):
            raise ValueError(f'FusedLinear: act must be gelu or none, got '
                             f'{act!r}')
        weight = linear.weight.detach()
        bias = linear.bias.detach() if linear.bias is not None else None
        if scale is not None:
            scale = scale.detach().to(weight.dtype)
            weight = weight * scale[:, None]
            bias = (bias if bias is not None else torch.zeros_like(scale)) \
                * scale
        self.weight = _frozen(weight)
        self.bias = None if bias is None else _frozen(bias)
        self.attr = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        algorithm = 'none' if self.attr == 'gelu' else ''
        return torch.ops.mkldnn._linear_pointwise(
            x.to(self.weight.dtype).contiguous(), self.weight, self.bias,
            self.attr, [], algorithm)


class FusedSplitConv(nn.Module):
    """A :class:`~.split_conv.SplitInputConvModule`
    (a convolution over concatenated parts, computed per part and summed)
    with the sum and the ReLU as oneDNN post-ops: each part's convolution
    adds the running sum to its output (binary ``add``), the last one also
    applies the ReLU, instead of an eager ``add_`` and ``relu_`` pass over
    the output per part.

    Args:
        module (SplitInputConvModule): The module to replace (ReLU or no
            activation).
    """

    accepts_parts = True

    def __init__(self, module: SplitInputConvModule):
        super().__init__()
        act = module.activate
        if not (act is None or isinstance(act, nn.ReLU)):
            raise ValueError('FusedSplitConv: ReLU or no activation only')
        self.splits = list(module.splits)
        self.weights = nn.ParameterList([_frozen(w) for w in module.weights])
        self.bias = None if module.bias is None else _frozen(module.bias)
        self.geometry = (list(module.padding), list(module.stride),
                         list(module.dilation))
        self.relu = act is not None

    def forward(self, x):
        parts = list(x) if isinstance(x, (list, tuple)) else list(
            torch.split(x, self.splits, dim=1))
        if len(parts) != len(self.splits):
            raise ValueError(f'FusedSplitConv expects {len(self.splits)} '
                             f'parts, got {len(parts)}')
        padding, stride, dilation = self.geometry
        dtype = self.weights[0].dtype
        last = len(parts) - 1
        out = None
        for i, (part, weight) in enumerate(zip(parts, self.weights)):
            unary = 'relu' if self.relu and i == last else 'none'
            # oneDNN's binary fusion needs NHWC operands (its fallback has
            # no bfloat16 add_relu); a no-op in the deploy form
            part = part.to(dtype).contiguous(memory_format=torch.channels_last)
            if out is None:
                out = torch.ops.mkldnn._convolution_pointwise(
                    part, weight, self.bias, padding, stride, dilation, 1,
                    unary, [], '')
            else:
                out = torch.ops.mkldnn._convolution_pointwise.binary(
                    part, out, weight, None, padding, stride, dilation, 1,
                    'add', None, unary if unary != 'none' else None, [], None)
        return out


def fuse_conv_modules(module: nn.Module) -> List[str]:
    """Replace every ConvModule under ``module`` that :class:`FusedConvAct`
    accepts, and every SplitInputConvModule by :class:`FusedSplitConv`, in
    place.

    Returns:
        list[str]: Names of the replaced modules.
    """
    replaced = []
    for name, child in list(module.named_modules()):
        if not name or not isinstance(child,
                                      (ConvModule, SplitInputConvModule)):
            continue
        try:
            new = FusedSplitConv(child) if isinstance(
                child, SplitInputConvModule) else \
                FusedConvAct.from_conv_module(child)
        except ValueError:
            continue
        module.set_submodule(name, new)
        replaced.append(name)
    return replaced


def fuse_convnext_blocks(backbone: nn.Module) -> int:
    """In every ConvNeXt block (mmpretrain's, linear pointwise convs, exact
    GELU, no GRN) fuse ``pointwise_conv1`` with the GELU and fold the layer
    scale ``gamma`` into ``pointwise_conv2``, in place.

    Returns:
        int: How many blocks were fused.
    """
    if ConvNeXtBlock is None:
        return 0
    count = 0
    for block in backbone.modules():
        if not isinstance(block, ConvNeXtBlock) or not block.linear_pw_conv \
                or block.grn is not None \
                or type(block.act) is not nn.GELU \
                or block.act.approximate != 'none' \
                or not isinstance(block.pointwise_conv1, nn.Linear) \
                or not isinstance(block.pointwise_conv2, nn.Linear):
            continue
        block.pointwise_conv1 = FusedLinear(block.pointwise_conv1, 'gelu')
        block.act = nn.Identity()
        block.pointwise_conv2 = FusedLinear(
            block.pointwise_conv2, 'none', scale=block.gamma)
        block.gamma = None
        count += 1
    return count
