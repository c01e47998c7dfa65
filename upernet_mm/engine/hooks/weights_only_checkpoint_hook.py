import warnings

from mmengine.hooks import Hook

from upernet_mm.registry import HOOKS
from upernet_mm.safe_io.checkpoint_format import (from_weights_only,
                                                 to_weights_only)


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Make the checkpoints the runner writes loadable with
    ``torch.load(weights_only=True)``, so ``resume`` works on torch >= 2.6
    without trusting pickled code.

    Before a save, the message hub's history buffers and numpy values are
    replaced by tensors and plain values; after a load they are restored.
    The priority is ``LOWEST`` so that the conversion sees what other hooks
    (EMA, ...) added to the checkpoint.
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        unsupported = []
        converted = to_weights_only(checkpoint, unsupported=unsupported)
        checkpoint.clear()
        checkpoint.update(converted)
        if unsupported:
            where = ', '.join(f'{p} ({t})' for p, t in unsupported)
            warnings.warn(
                'WeightsOnlyCheckpointHook: these checkpoint entries are not '
                f'plain data and need a trusted load to resume: {where}')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        restored = from_weights_only(checkpoint)
        checkpoint.clear()
        checkpoint.update(restored)
