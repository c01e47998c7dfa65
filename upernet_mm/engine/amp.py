"""Mixed-precision settings of a training config (``tools/train.py --amp``).
"""
import logging

from mmengine.device import (is_cuda_available, is_mlu_available,
                             is_musa_available, is_npu_available)
from mmengine.logging import print_log

from upernet_mm.deploy.pytorch.onednn import native_bf16 as cpu_has_native_bf16

_AMP_ONLY_KEYS = ('loss_scale', 'dtype', 'use_fsdp')


def _has_amp_device() -> bool:
    """Whether mmengine's ``AmpOptimWrapper`` can run here."""
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


def configure_amp(cfg,
                  requested: bool,
                  has_amp_device=None,
                  native_bf16=None) -> str:
    """Choose the mixed-precision optimizer wrapper of ``cfg``, in place.

    With an accelerator that mmengine's ``AmpOptimWrapper`` supports,
    ``requested`` turns ``OptimWrapper`` into ``AmpOptimWrapper`` with
    dynamic loss scaling. Without one (CPU), an ``AmpOptimWrapper``, asked
    for or already in the config, becomes :class:`BF16AmpOptimWrapper`
    (bfloat16 autocast, no loss scaling) with a logged notice, instead of
    failing in mmengine; on a CPU without bfloat16 instructions
    (AVX512-BF16 or AMX), where bfloat16 is emulated (a CamVid recipe's
    training step measured 9x slower than in float32 on an AVX2-only AMD
    EPYC), it becomes the float32 ``OptimWrapper`` with a logged notice. A
    config that names ``upernet_mm.BF16AmpOptimWrapper`` itself keeps it
    on any CPU.

    Args:
        cfg (Config): The training config; ``cfg.optim_wrapper`` is edited.
        requested (bool): Whether ``--amp`` was given.
        has_amp_device (bool, optional): Override the device check (tests).
        native_bf16 (bool, optional): Override the check of the CPU's
            bfloat16 instructions (tests, benchmarks).

    Returns:
        str: The resulting ``optim_wrapper.type``.
    """
    wrapper = cfg.optim_wrapper
    kind = str(wrapper.get('type', 'OptimWrapper')).split('.')[-1]
    if has_amp_device is None:
        has_amp_device = _has_amp_device()
    if requested:
        if kind in ('AmpOptimWrapper', 'BF16AmpOptimWrapper'):
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        elif kind != 'OptimWrapper':
            raise ValueError(
                '--amp needs optim_wrapper.type "OptimWrapper" (it becomes '
                f'"AmpOptimWrapper"), but the config has "{wrapper.type}"')
        else:
            wrapper.type = 'AmpOptimWrapper'
            kind = 'AmpOptimWrapper'
            if has_amp_device:
                wrapper.loss_scale = 'dynamic'
    if kind == 'AmpOptimWrapper' and not has_amp_device:
        dropped = {k: wrapper.pop(k) for k in _AMP_ONLY_KEYS if k in wrapper}
        ignored = (f'; ignored AmpOptimWrapper options {dropped}'
                   if dropped else '')
        if native_bf16 is None:
            native_bf16 = cpu_has_native_bf16()
        if native_bf16:
            wrapper.type = 'upernet_mm.BF16AmpOptimWrapper'
            wrapper.device_type = 'cpu'
            message = ('No CUDA/NPU/MLU/MUSA device: mixed precision uses '
                       'bfloat16 autocast on the CPU (BF16AmpOptimWrapper, '
                       'no loss scaling)')
        else:
            wrapper.type = 'OptimWrapper'
            message = ('No CUDA/NPU/MLU/MUSA device and no bfloat16 '
                       'instructions (AVX512-BF16/AMX) on this CPU, where '
                       'bfloat16 autocast is emulated and several times '
                       'slower than float32: training in float32 '
                       '(OptimWrapper). To force bfloat16, set '
                       "optim_wrapper.type='upernet_mm.BF16AmpOptimWrapper'")
        print_log(message + ignored, logger='current', level=logging.WARNING)
    return wrapper.type
