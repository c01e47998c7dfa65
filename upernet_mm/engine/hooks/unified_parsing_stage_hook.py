"""The final texture stage of Unified Perceptual Parsing."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from upernet_mm.registry import HOOKS


@HOOKS.register_module()
class UnifiedParsingStageHook(Hook):
    """Train every task but texture until ``texture_begin``, then the
    texture branch alone (the paper trains it after the rest, on the
    finished backbone).

    Before ``texture_begin`` the model is in stage ``'main'`` (texture
    labels are not trained); from ``texture_begin`` on in stage
    ``'texture'``: every parameter but the texture branch's is frozen and
    every other module stays in eval mode (see
    ``UnifiedParsingSegmentor.set_stage``). A resumed run gets the stage of
    its iteration. The data must follow: the batch sampler's ``stages``
    send only texture batches from the same iteration (see the configs in
    ``configs/unified_parsing/``).

    Args:
        texture_begin (int): First iteration of the texture stage.
        texture_lr (float, optional): Learning rate of every parameter
            group at the switch (the main stage's schedule usually ends
            near zero); the param schedulers active in the texture stage
            then scale it as usual. None keeps the scheduled rate.
    """
    priority = 'NORMAL'

    def __init__(self, texture_begin: int, texture_lr: Optional[float] = None):
        if isinstance(texture_begin, bool) or not isinstance(
                texture_begin, int) or texture_begin < 0:
            raise ValueError('UnifiedParsingStageHook: texture_begin must be '
                             f'an int >= 0, got {texture_begin!r}')
        number = isinstance(texture_lr,
                            (int, float)) and not isinstance(texture_lr, bool)
        if texture_lr is not None and not (number and texture_lr > 0):
            raise ValueError('UnifiedParsingStageHook: texture_lr must be a '
                             f'positive number or None, got {texture_lr!r}')
        self.texture_begin = texture_begin
        self.texture_lr = texture_lr

    @staticmethod
    def _model(runner):
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        if not hasattr(model, 'set_stage') or 'texture' not in getattr(
                model, 'tasks', ()):
            raise ValueError(
                'UnifiedParsingStageHook needs a UnifiedParsingSegmentor '
                'with "texture" in its decode_head.tasks, got '
                f'{type(model).__name__} with tasks '
                f'{getattr(model, "tasks", None)}')
        return model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        max_iters = runner.max_iters
        if self.texture_begin >= max_iters:
            raise ValueError(
                f'UnifiedParsingStageHook: texture_begin={self.texture_begin}'
                f' is not before train_cfg.max_iters={max_iters}: the '
                'texture branch would never be trained')
        stage = 'texture' if runner.iter >= self.texture_begin else 'main'
        model.set_stage(stage)
        print_log(
            f'Unified parsing: stage "{stage}" at iteration {runner.iter} '
            f'(texture stage from iteration {self.texture_begin} to '
            f'{max_iters})',
            logger='current')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        """At ``texture_begin``: the texture stage and ``texture_lr``, also
        when :meth:`before_train` already set the stage (a run resumed from
        the checkpoint saved at ``texture_begin``), so that a resumed run
        trains as the straight one. Later iterations keep the restored
        optimizer's rate (the checkpoint holds it)."""
        if runner.iter != self.texture_begin:
            return
        model = self._model(runner)
        if model.stage != 'texture':
            model.set_stage('texture')
        if self.texture_lr is not None:
            for group in runner.optim_wrapper.param_groups:
                group['lr'] = self.texture_lr
        print_log(
            f'Unified parsing: texture stage from iteration {runner.iter}: '
            'every parameter but the texture branch frozen' +
            (f', lr {self.texture_lr}' if self.texture_lr else ''),
            logger='current')
