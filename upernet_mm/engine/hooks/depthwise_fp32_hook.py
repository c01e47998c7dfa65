"""``DepthwiseFP32Hook``: depthwise convolutions stay float32 under bfloat16
autocast.

Autocast runs every convolution in bfloat16. On CPUs with AMX that makes
dense convolutions and matrix products several times faster, but a
depthwise convolution has no matrix product to speed up, and oneDNN's
bfloat16 backward of ConvNeXt's 7x7 depthwise convolutions measured 1.5-2.5x
slower than its float32 backward here (docs/training_and_distributed.md,
"Fast training on CPU").
"""
import logging

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from upernet_mm.registry import HOOKS


class AutocastFP32Conv2d(nn.Conv2d):
    """``nn.Conv2d`` that computes in float32 with autocast off: same
    parameters, buffers and state-dict keys, so an ``nn.Conv2d`` instance can
    take this class in place (``module.__class__ = AutocastFP32Conv2d``)."""

    def forward(self, x):
        with torch.autocast(device_type=x.device.type, enabled=False):
            return super().forward(x.to(self.weight.dtype))


def is_depthwise(module: nn.Module) -> bool:
    """Whether ``module`` is a plain ``nn.Conv2d`` with one group per input
    channel (more than one)."""
    return (type(module) is nn.Conv2d and module.groups > 1
            and module.groups == module.in_channels)


def depthwise_to_fp32(model: nn.Module) -> int:
    """Make every depthwise ``nn.Conv2d`` of ``model`` an
    :class:`AutocastFP32Conv2d`, in place.

    Returns:
        int: How many modules were changed.
    """
    count = 0
    for module in model.modules():
        if is_depthwise(module):
            module.__class__ = AutocastFP32Conv2d
            count += 1
    return count


@HOOKS.register_module()
class DepthwiseFP32Hook(Hook):
    """Before training, run the model's depthwise convolutions in float32
    with autocast off (their input is cast to float32, their output stays
    float32), while the rest of the model trains under the optimizer
    wrapper's bfloat16 autocast (``BF16AmpOptimWrapper``). Without autocast
    it changes nothing numerically. A model on another device than the CPU
    is left as it is (measured on CPUs only).

    Use it in a config with
    ``custom_hooks = [dict(type='DepthwiseFP32Hook')]``.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        param = next(model.parameters(), None)
        if param is not None and param.device.type != 'cpu':
            print_log(
                f'DepthwiseFP32Hook: the model is on {param.device}, not '
                'the CPU; depthwise convolutions left as they are',
                logger='current',
                level=logging.INFO)
            return
        count = depthwise_to_fp32(model)
        print_log(
            f'DepthwiseFP32Hook: {count} depthwise convolutions compute in '
            'float32 under autocast',
            logger='current',
            level=logging.INFO)
