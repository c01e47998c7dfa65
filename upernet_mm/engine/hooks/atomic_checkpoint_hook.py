import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from upernet_mm.registry import HOOKS
from upernet_mm.safe_io.atomic import (BACKEND_NAME, atomic_write,
                                      remove_stale_temporaries)


def _is_local(path) -> bool:
    return '://' not in str(path)


@HOOKS.register_module(name=['AtomicCheckpointHook', 'CheckpointHook'])
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's :class:`CheckpointHook` with crash-safe saving.

    In the ``upernet_mm`` scope this class is also registered as
    ``CheckpointHook``, so every config with ``default_scope='upernet_mm'``
    (set by ``configs/_base_/default_runtime.py``) gets it; mmengine's class
    stays available as ``mmengine.CheckpointHook``. Differences, all about
    what an interrupted save (kill, crash, power loss) leaves behind:

    * a checkpoint in a local folder is written to a hidden temporary file,
      flushed and fsynced, then renamed into place (the file backend
      ``upernet_mm_atomic_local``), so a ``iter_N.pth`` is never truncated;
    * ``last_checkpoint``, which ``--resume`` reads, is replaced the same way
      and only after the checkpoint it names is complete;
    * with ``max_keep_ckpts``, the oldest checkpoint is deleted only after
      the new one and ``last_checkpoint`` are in place (mmengine deletes it
      first, so a crash in between leaves ``last_checkpoint`` naming a
      deleted file);
    * temporary files left by a killed save are removed when training
      (re)starts.

    Args:
        **kwargs: Arguments of :class:`mmengine.hooks.CheckpointHook`. With
            ``backend_args`` or ``file_client_args`` set, or a remote
            ``out_dir``, checkpoints are written by that backend as in
            mmengine; ``last_checkpoint`` is still replaced atomically.
    """

    def before_train(self, runner) -> None:
        out_dir = self.out_dir if self.out_dir is not None \
            else runner.work_dir
        self._atomic = (self.backend_args is None
                        and self.file_client_args is None
                        and _is_local(out_dir))
        if self._atomic:
            self.backend_args = dict(backend=BACKEND_NAME)
        super().before_train(runner)
        if is_main_process():
            folders = {runner.work_dir}
            if self._atomic:
                folders.add(self.out_dir)
            removed = [p for f in sorted(folders)
                       for p in remove_stale_temporaries(f)]
            if removed:
                runner.logger.warning(
                    'Removed files of an interrupted checkpoint save: '
                    f'{removed}')

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
        atomic_write(osp.join(runner.work_dir, 'last_checkpoint'),
                     self.last_ckpt)
        if expired is not None:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(expired))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints
                self.file_backend.rmtree(path)
