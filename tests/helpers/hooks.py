"""Hooks for the end-to-end tests, loaded by subprocess configs with
``custom_imports=dict(imports=['helpers.hooks'])``."""
import os
import os.path as osp
import time

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from upernet_mm.registry import HOOKS


@HOOKS.register_module()
class CrashTestHook(Hook):
    """Write ``rank{N}.pid`` into the work dir when training starts and
    sleep after every training iteration, so a test can kill a process
    mid-run.

    Args:
        sleep (float): Seconds to sleep after each iteration. Default: 0.
    """

    def __init__(self, sleep=0.0):
        self.sleep = sleep

    def before_train(self, runner):
        path = osp.join(runner.work_dir, f'rank{get_rank()}.pid')
        with open(path + '.tmp', 'w') as f:
            f.write(str(os.getpid()))
        os.replace(path + '.tmp', path)

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        time.sleep(self.sleep)


@HOOKS.register_module()
class SaveRankWeightsHook(Hook):
    """Every rank saves its final weights as ``rank{N}.pth`` in the work
    dir."""

    def after_run(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        torch.save(state, osp.join(runner.work_dir, f'rank{get_rank()}.pth'))


@HOOKS.register_module()
class ExitAtIterHook(Hook):
    """End the process abruptly (``os._exit``, no clean-up, like a kill)
    when training reaches iteration ``iter``, after that iteration's
    checkpoint was written.

    Args:
        iter (int): The iteration count at which to exit.
    """

    priority = 'LOWEST'

    def __init__(self, iter):
        self.iter = iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.iter:
            os._exit(3)


@HOOKS.register_module()
class HangRankHook(Hook):
    """Rank ``rank`` stops (sleeps for an hour) at iteration ``iter``, as a
    rank stuck in a deadlock or on a file system would.

    Args:
        rank (int): The rank that hangs.
        iter (int): The iteration at which it hangs.
    """

    def __init__(self, rank=1, iter=1):
        self.rank = rank
        self.iter = iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if get_rank() == self.rank and runner.iter == self.iter:
            time.sleep(3600)
