from mmengine.hooks import Hook

from upernet_mm.registry import HOOKS
from .resumable_checkpoint_hook import ResumableCheckpointHook
from .resume_state_mixin import ResumeStateMixin


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(ResumeStateMixin, Hook):
    """Checkpoints of mmengine's ``CheckpointHook`` made loadable with
    ``torch.load(weights_only=True)`` and resumable with the random state of
    every rank (see :class:`ResumeStateMixin`).

    The tools' runner setup adds it when a config's checkpoint hook is
    mmengine's; with :class:`ResumableCheckpointHook`, which does the same
    itself, it does nothing. In a distributed run it cannot gather the
    ranks' random states (mmengine's hook saves from rank 0 alone), so
    they are not saved. The priority is ``LOWEST`` so that the
    conversion sees what other hooks (EMA, ...) added to the checkpoint.
    """

    priority = 'LOWEST'

    def _edits_checkpoints(self, runner) -> bool:
        return not any(
            isinstance(h, ResumableCheckpointHook) for h in runner.hooks)

    def before_train(self, runner) -> None:
        if self._edits_checkpoints(runner):
            self._check_last_to_edit_checkpoints(runner)
