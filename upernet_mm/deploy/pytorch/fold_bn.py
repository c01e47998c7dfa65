"""Fold inference-mode BatchNorm into the convolution that precedes it.

mmcv's ``fuse_conv_bn`` pairs a BatchNorm with the last ``nn.Conv2d`` among
the children registered before it, whatever ran in between: a ConvModule
with ``order=('norm', 'conv', 'act')``, or a ``Sequential(conv, act, bn)``,
would be folded wrongly. Here a BatchNorm is folded only where it is known
to read the convolution's output directly; the arithmetic is torch's
``fuse_conv_bn_eval``.
"""
from typing import List, NamedTuple, Optional

import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd
from torch.nn.utils.fusion import fuse_conv_bn_eval


class FoldReport(NamedTuple):
    """What :func:`fold_batchnorm` did.

    Attributes:
        folded (list[str]): Names of the BatchNorm layers folded away.
        kept (list[str]): Names of the BatchNorm layers left in place
            (no convolution known to feed them directly).
    """
    folded: List[str]
    kept: List[str]


def _foldable(conv, bn) -> bool:
    return (isinstance(conv, _ConvNd) and isinstance(bn, _BatchNorm)
            and bn.track_running_stats and bn.running_mean is not None
            and conv.out_channels == bn.num_features)


def _fold_pair(conv: nn.Module, bn: nn.Module) -> nn.Module:
    if conv.training or bn.training:
        raise RuntimeError('fold_batchnorm needs the model in eval mode '
                           '(call model.eval() first)')
    return fuse_conv_bn_eval(conv, bn)


def _fold_conv_module(module: ConvModule) -> bool:
    """Fold ``module.norm`` into ``module.conv`` if the norm directly
    follows the conv in ``module.order``."""
    if not module.with_norm:
        return False
    order = list(module.order)
    if order.index('norm') != order.index('conv') + 1 \
            or not _foldable(module.conv, module.norm):
        return False
    module.conv = _fold_pair(module.conv, module.norm)
    setattr(module, module.norm_name, nn.Identity())
    module.with_norm = False
    return True


def _fold_numbered(module: nn.Module, prefix: str, folded: List[str]) -> None:
    """mmcv's naming convention (ResNet blocks and stems): ``conv{i}``
    feeds the norm named by ``norm{i}_name``."""
    for i in range(1, 10):
        norm_name = getattr(module, f'norm{i}_name', None)
        conv = getattr(module, f'conv{i}', None)
        if not isinstance(norm_name, str) or conv is None:
            continue
        bn = getattr(module, norm_name, None)
        if _foldable(conv, bn):
            setattr(module, f'conv{i}', _fold_pair(conv, bn))
            setattr(module, norm_name, nn.Identity())
            folded.append(prefix + norm_name)


def _fold_sequential(module: nn.Sequential, prefix: str,
                     folded: List[str]) -> None:
    names = list(module._modules)
    for prev, name in zip(names, names[1:]):
        conv, bn = module._modules[prev], module._modules[name]
        if _foldable(conv, bn):
            module._modules[prev] = _fold_pair(conv, bn)
            module._modules[name] = nn.Identity()
            folded.append(prefix + name)


def _walk(module: nn.Module, prefix: str, folded: List[str]) -> None:
    if isinstance(module, ConvModule):
        norm_name = module.norm_name if module.with_norm else None
        if _fold_conv_module(module):
            folded.append(prefix + norm_name)
    elif isinstance(module, nn.Sequential):
        _fold_sequential(module, prefix, folded)
    else:
        _fold_numbered(module, prefix, folded)
    for name, child in module.named_children():
        _walk(child, f'{prefix}{name}.', folded)


def fold_batchnorm(model: nn.Module, prefix: Optional[str] = '') -> FoldReport:
    """Fold every BatchNorm that directly follows a convolution into it,
    in place.

    Folded pairs: a :class:`~mmcv.cnn.ConvModule` whose ``order`` has
    ``'norm'`` right after ``'conv'``; adjacent ``conv``, ``bn`` children of
    an ``nn.Sequential``; and ``conv{i}``/``norm{i}_name`` pairs of mmcv-style
    blocks (mmseg's and mmpretrain's ResNet stems and blocks). The folded
    BatchNorm becomes ``nn.Identity`` (a ConvModule also gets
    ``with_norm=False``), so the result is for inference only: its state dict
    has no BatchNorm entries and training it would not normalise.

    Args:
        model (nn.Module): A model in eval mode.
        prefix (str): Prepended to the reported names. Default: ''.

    Returns:
        FoldReport: The folded and the remaining BatchNorm layers.
    """
    if model.training:
        raise RuntimeError('fold_batchnorm needs the model in eval mode '
                           '(call model.eval() first)')
    folded: List[str] = []
    _walk(model, prefix or '', folded)
    kept = [
        f'{prefix or ""}{name}' for name, m in model.named_modules()
        if isinstance(m, _BatchNorm)
    ]
    return FoldReport(folded=folded, kept=kept)
