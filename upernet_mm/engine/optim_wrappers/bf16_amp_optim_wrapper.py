from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from upernet_mm.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16AmpOptimWrapper(OptimWrapper):
    """Mixed precision with bfloat16 autocast, for devices where mmengine's
    ``AmpOptimWrapper`` is unavailable (it requires CUDA, NPU, MLU or MUSA).

    The forward pass and the loss run under ``torch.autocast(device_type,
    dtype=torch.bfloat16)``; weights, gradients and the optimizer state stay
    float32. bfloat16 has float32's exponent range, so there is no loss
    scaling.

    Args:
        device_type (str): ``device_type`` of ``torch.autocast``.
            Default: 'cpu'.
        **kwargs: Arguments of :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, device_type='cpu', **kwargs):
        if not isinstance(device_type, str):
            raise TypeError('BF16AmpOptimWrapper: device_type must be a '
                            f'device name such as "cpu", got {device_type!r}')
        super().__init__(**kwargs)
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model):
        """Gradient-sync context of ``OptimWrapper`` plus bf16 autocast."""
        with super().optim_context(model), torch.autocast(
                device_type=self.device_type, dtype=torch.bfloat16):
            yield
