"""Turn a trained mmseg segmentor into its inference form, in place."""
import logging
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from . import onednn
from .fold_bn import fold_batchnorm
from .split_conv import split_fpn_bottleneck
from .winograd import winograd_head

PRECISIONS = ('fp32', 'bf16')


def _to_float32(module, args, output):
    """Forward hook returning the output in float32."""
    return output.float()


def _to_input(dtype: torch.dtype, channels_last: bool):
    """Forward pre-hook casting the first (tensor) input."""

    def hook(module, args):
        if not args or not torch.is_tensor(args[0]):
            return None
        x = args[0]
        if x.is_floating_point():
            x = x.to(dtype)
        if channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return (x, ) + tuple(args[1:])

    return hook


def deploy_segmentor(model: nn.Module,
                     precision: str = 'fp32',
                     fold_bn: bool = True,
                     channels_last: bool = True,
                     split_concat: bool = True,
                     winograd: Optional[bool] = None,
                     fuse: Optional[bool] = None,
                     fp32_classifier: bool = False,
                     compile: bool = False,
                     compile_kwargs: Optional[dict] = None) -> nn.Module:
    """Put a trained segmentor (mmseg ``EncoderDecoder`` and subclasses) in
    its inference form, in place: same class and API, so mmseg's Runner and
    inferencer use it unchanged. What each step does, and what it gains, is
    in ``docs/deploy_and_performance.md`` (Deploy mode).

    Args:
        model (nn.Module): The segmentor, weights loaded.
        precision (str): ``'fp32'`` or ``'bf16'``. Default: 'fp32'.
        fold_bn (bool): Fold BatchNorm into convolutions. Default: True.
        channels_last (bool): NHWC memory format. Default: True.
        split_concat (bool): With ``fold_bn``, UPerHead's ``fpn_bottleneck``
            as one convolution per level. Default: True.
        winograd (bool, optional): With ``fold_bn``, the decode head's 3x3
            convolutions by Winograd's algorithm. None: for ``'fp32'``.
        fuse (bool, optional): oneDNN post-op fusion. None: where PyTorch
            has oneDNN, unless ``compile``, and for ``'bf16'`` only on a CPU
            with bfloat16 instructions (oneDNN has no fused bfloat16
            kernels without them).
        fp32_classifier (bool): With ``'bf16'``, ``conv_seg`` in float32.
            Default: False.
        compile (bool): ``torch.compile`` the backbone and the decode head.
            Default: False.
        compile_kwargs (dict, optional): Arguments of ``torch.compile``.
            Default: Inductor with ``freezing``.

    Returns:
        nn.Module: ``model`` itself, for chaining.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'deploy_segmentor: precision must be one of '
                         f'{PRECISIONS}, got {precision!r}')
    for name in ('backbone', 'decode_head'):
        if not isinstance(getattr(model, name, None), nn.Module):
            raise TypeError(
                f'deploy_segmentor expects an mmseg segmentor with a '
                f'{name!r} module, got {type(model).__name__}')
    if getattr(model, '_upernet_mm_deployed', None):
        raise RuntimeError('deploy_segmentor: this model is already in '
                           f'deploy form ({model._upernet_mm_deployed})')
    model.eval()
    heads = [model.decode_head]
    neck = getattr(model, 'neck', None) if getattr(model, 'with_neck',
                                                   False) else None
    if fold_bn:
        report = fold_batchnorm(model)
        if report.kept:
            print_log(
                f'deploy_segmentor: {len(report.kept)} BatchNorm layers '
                f'are not directly after a convolution and stay: '
                f'{report.kept[:5]}',
                logger='current',
                level=logging.INFO)
    if fold_bn and split_concat:
        for head in heads:
            split_fpn_bottleneck(head)
    if winograd is None:
        winograd = precision == 'fp32'
    if winograd and not fold_bn:
        raise ValueError('deploy_segmentor: winograd=True needs fold_bn=True')
    if winograd:
        for head in heads:
            winograd_head(head)
    if fuse is None:
        # Inductor fuses the same operators itself, and its lowering of
        # them needs the weights as graph constants, not module parameters
        fuse = onednn.available() and not compile and (precision != 'bf16'
                                                       or onednn.native_bf16())
    if fuse and compile:
        raise ValueError('deploy_segmentor: fuse=True and compile=True do '
                         'not combine (Inductor fuses activations itself)')
    if fuse:
        if not onednn.available():
            raise RuntimeError('deploy_segmentor: fuse=True needs PyTorch '
                               'with oneDNN (torch.ops.mkldnn)')
        if precision == 'bf16' and not onednn.native_bf16():
            raise RuntimeError(
                "deploy_segmentor: fuse=True with precision='bf16' needs a "
                'CPU with bfloat16 instructions (AVX512-BF16 or AMX); '
                'oneDNN has no fused bfloat16 kernels here (fuse=None '
                'leaves the layers unfused)')
        onednn.fuse_convnext_blocks(model.backbone)
        for head in heads:
            onednn.fuse_conv_modules(head)
            if type(head.conv_seg) is torch.nn.Conv2d:
                head.conv_seg = onednn.FusedConvAct(head.conv_seg)
    dtype = torch.bfloat16 if precision == 'bf16' else torch.float32
    compute = [model.backbone] + ([neck] if neck is not None else []) + heads
    for module in compute:
        if dtype != torch.float32:
            module.to(dtype)  # floating-point tensors only
        if channels_last:
            module.to(memory_format=torch.channels_last)
    for head in heads:
        if dtype != torch.float32 and fp32_classifier:
            head.conv_seg.float()
            head.conv_seg.register_forward_pre_hook(
                _to_input(torch.float32, False))
        elif dtype != torch.float32:
            head.conv_seg.register_forward_hook(_to_float32)
    model.backbone.register_forward_pre_hook(_to_input(dtype, channels_last))
    if compile:
        # freezing: weights become constants, so Inductor pre-packs the
        # convolution weights once instead of reordering them every call
        kwargs = dict(compile_kwargs or dict(options=dict(freezing=True)))
        model.backbone.compile(**kwargs)
        # BaseDecodeHead.predict calls self.forward directly, not __call__
        model.decode_head.forward = torch.compile(model.decode_head.forward,
                                                  **kwargs)
    # the options in effect (winograd and fuse resolved), which also marks
    # the model as deployed
    model._upernet_mm_deployed = dict(
        precision=precision,
        fold_bn=fold_bn,
        channels_last=channels_last,
        split_concat=split_concat,
        winograd=winograd,
        fuse=fuse,
        fp32_classifier=fp32_classifier,
        compile=compile)
    return model
