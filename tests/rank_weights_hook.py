"""A hook for the distributed tests: every rank saves its final weights."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from upernet_mm.registry import HOOKS


@HOOKS.register_module()
class SaveRankWeightsHook(Hook):

    def after_run(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        torch.save(state, osp.join(runner.work_dir, f'rank{get_rank()}.pth'))
