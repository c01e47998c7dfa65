"""The hook methods that make runner checkpoints load with
``torch.load(weights_only=True)`` and resume with the saving run's random
state, shared by both checkpoint hooks."""
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop

from ..resume_state import (RngReplayGuard, checkpoint_after_load,
                            checkpoint_for_save, gather_rng_states,
                            restore_rng_state, rng_state, rng_state_of_rank)


class ResumeStateMixin:
    """Hook methods that make checkpoints load with
    ``torch.load(weights_only=True)`` and resume with the random state of the
    saving run (see :mod:`upernet_mm.engine.resume_state`).

    Used by :class:`ResumableCheckpointHook` (our configs' checkpoint hook)
    and :class:`WeightsOnlyCheckpointHook` (added by the runner setup of the
    tools when a config uses mmengine's ``CheckpointHook``).
    """

    def _edits_checkpoints(self, runner) -> bool:
        return True

    def _gather_rng_states(self) -> list:
        """The random states to save, gathered from every rank (call on
        every rank before ``runner.save_checkpoint``, which runs hooks on
        rank 0 only). During a validation, the states from before it, which
        are the ones training continues with."""
        self._rng_states = gather_rng_states(
            getattr(self, '_rng_before_val', None))

    def _rng_states_to_save(self):
        states, self._rng_states = getattr(self, '_rng_states', None), None
        if states is None and get_world_size() == 1:
            states = gather_rng_states(getattr(self, '_rng_before_val', None))
        return states

    def _check_last_to_edit_checkpoints(self, runner) -> None:
        """Raise if a hook that changes checkpoints runs after this one (its
        entries would miss the weights-only conversion)."""
        hooks = list(runner.hooks)
        later = [
            type(h).__name__ for h in hooks[hooks.index(self) + 1:]
            if not isinstance(h, ResumeStateMixin)
            and getattr(type(h), 'before_save_checkpoint',
                        None) is not Hook.before_save_checkpoint
        ]
        if later:
            raise RuntimeError(
                f'{type(self).__name__} must be the last hook to edit a '
                f'checkpoint before it is saved, but {later} run(s) after it '
                f'(priority {self.priority!r}); give them a higher priority')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self._edits_checkpoints(runner):
            return
        converted = checkpoint_for_save(checkpoint,
                                        type(self).__name__,
                                        self._rng_states_to_save())
        checkpoint.clear()
        checkpoint.update(converted)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._resumed_rng = None
        if not self._edits_checkpoints(runner):
            return
        restored, states = checkpoint_after_load(checkpoint)
        checkpoint.clear()
        checkpoint.update(restored)
        if not getattr(runner, '_resume', False):
            return  # load_from without resume, tools/test.py: fresh streams
        if states is not None:
            state, reason = rng_state_of_rank(states)
            if reason:
                runner.logger.warning(
                    f'Random state not restored: {reason}; the resumed run '
                    'draws other dropout masks and augmentations than an '
                    'uninterrupted one')
            self._resumed_rng = state
        seed = checkpoint.get('meta', {}).get('seed')
        if seed is not None and seed != runner.seed:
            runner.logger.warning(
                f'The checkpoint was written by a run with seed {seed}, but '
                f'the data of this run was set up with seed {runner.seed}: '
                'a resumed run sees other samples and augmentations. Set '
                f'randomness.seed={seed} (tools/train.py --resume does)')

    def before_train_epoch(self, runner) -> None:
        state = getattr(self, '_resumed_rng', None)
        self._resumed_rng = None
        if state is None:
            return
        loop = runner.train_loop
        if type(loop) is IterBasedTrainLoop and loop.iter > 0:
            # mmengine's loop now replays loop.iter batches, then fetches
            # the next one: restore after the replay
            loop.dataloader_iterator = RngReplayGuard(loop.dataloader_iterator,
                                                      loop.iter, state)
        else:
            restore_rng_state(state)

    def before_val(self, runner) -> None:
        # validation during training leaves the training's generators as
        # they were, so a resumed run continues them exactly
        self._rng_before_val = rng_state() \
            if self._edits_checkpoints(runner) else None

    def after_val(self, runner) -> None:
        state = getattr(self, '_rng_before_val', None)
        self._rng_before_val = None
        if state is not None:
            restore_rng_state(state)
