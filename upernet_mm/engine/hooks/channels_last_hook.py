"""``ChannelsLastHook``: train in the NHWC (``channels_last``) memory format.

mmengine has no switch for the memory format of a model. On CPU, oneDNN's
convolutions work in NHWC internally, and mmpretrain's ConvNeXt permutes
every block to NHWC for its LayerNorm and pointwise Linear layers and back:
in NCHW each of those permutes is a copy, in ``channels_last`` it is free.
"""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from upernet_mm.registry import HOOKS


def _to_channels_last(tensor):
    if isinstance(tensor, torch.Tensor) and tensor.dim() == 4:
        return tensor.contiguous(memory_format=torch.channels_last)
    return tensor


def _inputs_to_channels_last(module, args):
    """Forward pre-hook: the first positional input in ``channels_last``."""
    if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
        return (_to_channels_last(args[0]), ) + tuple(args[1:])
    return None


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Put the model, its optimizer state and the backbone's input in the
    ``channels_last`` memory format before training.

    Before the first training iteration (after weights are initialised or
    loaded and a resumed optimizer state is restored) every 4-d parameter
    and buffer of the model and every 4-d optimizer state tensor (AdamW's
    moments of conv weights) is made ``channels_last``, in place, so the
    optimizer keeps its parameters. A forward pre-hook on ``model.backbone``
    (on the model itself if it has no ``backbone``) turns the normalised
    image batch NHWC as well. Values are unchanged, only strides; the
    validation inside training runs in the same layout. Checkpoints store
    the tensors as they are and load into either layout.

    Use it in a config with
    ``custom_hooks = [dict(type='ChannelsLastHook')]``; remove it to train
    in NCHW.

    Args:
        inputs (bool): Also convert the backbone's input. Default: True.
    """

    priority = 'VERY_HIGH'

    def __init__(self, inputs: bool = True):
        if not isinstance(inputs, bool):
            raise TypeError(
                f'ChannelsLastHook: inputs must be True or False, got '
                f'{inputs!r}')
        self.inputs = inputs
        self._handle = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        model.to(memory_format=torch.channels_last)
        for optim in _optimizers(getattr(runner, 'optim_wrapper', None)):
            for state in optim.state.values():
                for key, value in state.items():
                    state[key] = _to_channels_last(value)
        if self.inputs and self._handle is None:
            target = getattr(model, 'backbone', model)
            self._handle = target.register_forward_pre_hook(
                _inputs_to_channels_last)


def _optimizers(optim_wrapper):
    """The torch optimizers of an ``OptimWrapper`` or
    ``OptimWrapperDict``."""
    if optim_wrapper is None:
        return []
    if hasattr(optim_wrapper, 'optim_wrappers'):  # OptimWrapperDict
        return [w.optimizer for w in optim_wrapper.optim_wrappers.values()]
    optimizer = getattr(optim_wrapper, 'optimizer', None)
    return [optimizer] if optimizer is not None else []
