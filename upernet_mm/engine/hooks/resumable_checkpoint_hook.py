import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from upernet_mm.registry import HOOKS
from upernet_mm.safe_io import UnsafeCheckpointError, require_inside
from upernet_mm.safe_io.atomic import (BACKEND_NAME, atomic_write,
                                       remove_stale_temporaries)
from .resume_state_mixin import ResumeStateMixin


def _is_local(path) -> bool:
    return '://' not in str(path)


@HOOKS.register_module()
class ResumableCheckpointHook(ResumeStateMixin, CheckpointHook):
    """mmengine's :class:`CheckpointHook` whose checkpoints survive a crash
    at any moment and resume exactly, without unpickling code.

    Our configs name it (``default_hooks.checkpoint``); the plain
    ``CheckpointHook`` is mmengine's class in every scope. Differences to
    mmengine's hook:

    * what is written loads with ``torch.load(weights_only=True)``: the
      message hub's history buffers and numpy values are converted before
      the save and back after the load, and an entry that cannot be
      converted (an object another hook put there) is an error at the first
      save, naming the entry, instead of a failed ``--resume`` later;
    * the random state of every rank (Python, numpy, torch, CUDA) is saved
      and restored at the point the saving run had reached, so a resumed run
      draws the same dropout, drop path and augmentations; validation
      during training does not advance the training's generators;
    * a checkpoint in a local folder is written to a hidden temporary file,
      flushed and fsynced, then renamed into place (file backend
      ``upernet_mm_atomic_local``), so a ``iter_N.pth`` is never truncated;
    * ``last_checkpoint``, which ``--resume`` reads, is replaced the same way
      and only after the checkpoint it names is complete; it holds an
      absolute path;
    * with ``max_keep_ckpts``, the oldest checkpoint is deleted only after
      the new one and ``last_checkpoint`` are in place, and with
      ``save_best`` the previous best checkpoint only after the new best
      one is written (mmengine deletes first, so a crash in between loses
      it);
    * temporary files left by a killed save are removed when training
      (re)starts.

    Args:
        **kwargs: Arguments of :class:`mmengine.hooks.CheckpointHook`. With
            ``backend_args`` or ``file_client_args`` set, or a remote
            ``out_dir``, checkpoints are written by that backend as in
            mmengine; ``last_checkpoint`` is still replaced atomically.
    """

    def before_train(self, runner) -> None:
        self._check_last_to_edit_checkpoints(runner)
        if self.out_dir is not None and _is_local(self.out_dir):
            self.out_dir = osp.abspath(self.out_dir)
        out_dir = self.out_dir if self.out_dir is not None \
            else osp.abspath(runner.work_dir)
        self._atomic = (
            self.backend_args is None and self.file_client_args is None
            and _is_local(out_dir))
        if self._atomic:
            self.backend_args = dict(backend=BACKEND_NAME)
            self.out_dir = out_dir
        super().before_train(runner)
        if is_main_process():
            folders = {runner.work_dir}
            if self._atomic:
                folders.add(self.out_dir)
            removed = [
                p for f in sorted(folders) for p in remove_stale_temporaries(f)
            ]
            if removed:
                runner.logger.warning(
                    'Removed files of an interrupted checkpoint save: '
                    f'{removed}')

    # Order of writes and deletes

    def _save_checkpoint_with_step(self, runner, step, meta):
        """Save the checkpoint of ``step``, then point ``last_checkpoint`` to
        it, then delete the checkpoint that ``max_keep_ckpts`` drops."""
        expired = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                expired = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._gather_rng_states()
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if expired is not None:
            self._remove(
                self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(expired)))

    def _remove(self, path) -> bool:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed checkpoints
            self.file_backend.rmtree(path)
        else:
            return False
        return True

    def _inside_out_dir(self, path) -> bool:
        """Whether ``path`` (from the message hub, so from a checkpoint that
        may come from elsewhere) lies in this run's ``out_dir``."""
        if not _is_local(self.out_dir):
            return str(path).startswith(str(self.out_dir).rstrip('/') + '/')
        try:
            require_inside(path, self.out_dir, "runtime_info['best_ckpt']")
        except UnsafeCheckpointError:
            return False
        return True

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's ``save_best``, but the previous best checkpoint is
        deleted only after the new one and the regular checkpoint that
        records it are written (mmengine deletes first, so a crash in
        between loses the best checkpoint)."""
        if not self.save_best:
            return
        if self.by_epoch:
            ckpt_filename = self.filename_tmpl.format(runner.epoch)
            cur_type, cur_time = 'epoch', runner.epoch
        else:
            ckpt_filename = self.filename_tmpl.format(runner.iter)
            cur_type, cur_time = 'iter', runner.iter
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [list(metrics.keys())[0]])
        single = len(self.key_indicators) == 1
        updated, outdated = False, []
        for key_indicator, rule in zip(self.key_indicators, self.rules):
            score_key = 'best_score' if single \
                else f'best_score_{key_indicator}'
            path_key = 'best_ckpt' if single else f'best_ckpt_{key_indicator}'
            previous = self.best_ckpt_path if single \
                else self.best_ckpt_path_dict[key_indicator]
            best_score = runner.message_hub.get_info(score_key,
                                                     self.init_value_map[rule])
            score = metrics[key_indicator]
            if score is None or not self.is_better_than[key_indicator](
                    score, best_score):
                continue
            updated = True
            runner.message_hub.update_info(score_key, score)
            name = f'best_{key_indicator}_{ckpt_filename}'.replace('/', '_')
            path = self.file_backend.join_path(self.out_dir, name)
            if single:
                self.best_ckpt_path = path
            else:
                self.best_ckpt_path_dict[key_indicator] = path
            runner.message_hub.update_info(path_key, path)
            self._gather_rng_states()
            runner.save_checkpoint(
                self.out_dir,
                filename=name,
                file_client_args=self.file_client_args,
                save_optimizer=False,
                save_param_scheduler=False,
                meta=meta,
                by_epoch=False,
                backend_args=self.backend_args)
            runner.logger.info(
                f'The best checkpoint with {score:0.4f} {key_indicator} at '
                f'{cur_time} {cur_type} is saved to {name}.')
            if previous and previous != path:
                outdated.append(previous)
        if not updated:
            return
        # the regular checkpoint again, so that its message hub names the
        # new best checkpoint (as mmengine does)
        if self.last_ckpt is not None:
            self._save_checkpoint_with_step(runner, cur_time, meta)
        if not is_main_process():
            return
        for path in outdated:
            if not self._inside_out_dir(path):
                runner.logger.warning(
                    f'The previous best checkpoint {path!r} recorded in the '
                    f'resumed checkpoint is not in {self.out_dir}; it is '
                    'left in place')
            elif self._remove(path):
                runner.logger.info(
                    f'The previous best checkpoint {path} is removed')
