"""Runner checkpoints load with weights_only=True and resume exactly."""
import copy
import os

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from helpers import runner_kwargs
from upernet_mm.safe_io import (UnsafeCheckpointError, load_from_local,
                                sha256_of_file, trust_checkpoint)


def _runner_kwargs(data_root, work_dir, max_iters=6, safe=True, **extra):
    """helpers.runner_kwargs; ``safe=False``: mmengine's CheckpointHook,
    whose checkpoints hold pickled objects."""
    kwargs = runner_kwargs(data_root, work_dir, max_iters=max_iters, **extra)
    if not safe:
        kwargs['default_hooks']['checkpoint']['type'] = \
            'mmengine.CheckpointHook'
    return kwargs


class _RecordAtStart(Hook):
    """Keep what the runner holds when training (re)starts."""

    def before_train(self, runner):
        self.iter = runner.iter
        self.weights = {
            k: v.clone()
            for k, v in runner.model.state_dict().items()
        }
        self.optimizer = copy.deepcopy(runner.optim_wrapper.state_dict())
        self.schedulers = [s.state_dict() for s in runner.param_schedulers]
        self.loss_history = runner.message_hub.get_scalar('train/loss').data


def test_checkpoint_is_weights_only_and_resume_continues(seg_folder, tmp_path):
    first = Runner(**_runner_kwargs(seg_folder, tmp_path / 'first'))
    first.train()
    ckpt4 = tmp_path / 'first' / 'iter_4.pth'
    # the plain torch.load with weights_only=True accepts it
    saved = torch.load(ckpt4, map_location='cpu', weights_only=True)
    assert saved['meta']['iter'] == 4

    record = _RecordAtStart()
    resumed = Runner(**_runner_kwargs(
        seg_folder,
        tmp_path / 'second',
        load_from=str(ckpt4),
        resume=True,
        custom_hooks=[record]))
    resumed.train()

    # what continues: counter, weights, optimizer, scheduler, history
    assert record.iter == 4
    for key, value in saved['state_dict'].items():
        torch.testing.assert_close(record.weights[key], value, rtol=0, atol=0)
    saved_opt = saved['optimizer']['state']
    assert saved_opt, 'SGD momentum buffers expected in the checkpoint'
    for idx, state in saved_opt.items():
        torch.testing.assert_close(
            record.optimizer['state'][idx]['momentum_buffer'],
            state['momentum_buffer'],
            rtol=0,
            atol=0)
    assert record.schedulers == saved['param_schedulers']
    assert record.schedulers[0]['last_step'] == 4
    assert len(record.loss_history[0]) == 4

    # the resumed run ends where the uninterrupted one did
    assert resumed.iter == 6
    final_a = torch.load(tmp_path / 'first' / 'iter_6.pth', weights_only=True)
    final_b = torch.load(tmp_path / 'second' / 'iter_6.pth', weights_only=True)
    for key, value in final_a['state_dict'].items():
        torch.testing.assert_close(
            final_b['state_dict'][key], value, rtol=0, atol=1e-6)
    assert final_b['param_schedulers'] == final_a['param_schedulers']
    assert final_b['meta']['iter'] == 6


def test_plain_mmengine_checkpoint_is_refused_unless_trusted(
        seg_folder, tmp_path):
    plain = Runner(**_runner_kwargs(
        seg_folder, tmp_path / 'plain', max_iters=2, safe=False))
    plain.train()
    ckpt = str(tmp_path / 'plain' / 'iter_2.pth')

    with pytest.raises(UnsafeCheckpointError) as info:
        load_from_local(ckpt, map_location='cpu')
    msg = str(info.value)
    digest = sha256_of_file(ckpt)
    assert ckpt in msg and 'weights_only=True' in msg
    assert f'--trust-checkpoint {digest}' in msg

    # resuming through the Runner gives the same error
    with pytest.raises(UnsafeCheckpointError):
        Runner(**_runner_kwargs(
            seg_folder,
            tmp_path / 'again',
            max_iters=4,
            load_from=ckpt,
            resume=True)).train()

    # explicit opt-in for this one content
    trust_checkpoint(digest)
    with pytest.warns(UserWarning, match='trusted checkpoint'):
        loaded = load_from_local(ckpt, map_location='cpu')
    assert loaded['meta']['iter'] == 2


def test_upgrade_checkpoint_tool_makes_plain_checkpoint_resumable(
        seg_folder, tmp_path):
    import subprocess
    import sys
    Runner(**_runner_kwargs(
        seg_folder, tmp_path / 'plain', max_iters=2, safe=False)).train()
    src = str(tmp_path / 'plain' / 'iter_2.pth')
    dst = str(tmp_path / 'safe.pth')
    tool = os.path.join(
        os.path.dirname(__file__), '..', 'tools', 'model_converters',
        'upgrade_checkpoint.py')
    refused = subprocess.run([sys.executable, tool, src, dst],
                             capture_output=True,
                             text=True)
    assert refused.returncode != 0 and 'Refusing to load' in refused.stderr
    subprocess.run([
        sys.executable, tool, src, dst, '--trust-checkpoint',
        sha256_of_file(src)
    ],
                   check=True)
    torch.load(dst, weights_only=True)
    resumed = Runner(**_runner_kwargs(
        seg_folder,
        tmp_path / 'resumed',
        max_iters=4,
        load_from=dst,
        resume=True))
    resumed.train()
    assert resumed.iter == 4
