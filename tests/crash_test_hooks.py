"""A hook for the crash tests of tools/train.py: it tells the test which
process to kill and slows training so that the kill lands mid-run."""
import os
import os.path as osp
import time

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from upernet_mm.registry import HOOKS


@HOOKS.register_module()
class CrashTestHook(Hook):
    """Write ``rank{N}.pid`` into the work dir when training starts and
    sleep after every training iteration.

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

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        time.sleep(self.sleep)
