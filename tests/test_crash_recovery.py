"""tools/train.py killed with SIGKILL resumes to the same weights as an
uninterrupted run, and a distributed job whose rank dies exits instead of
hanging."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config

from helpers import TOOLS, free_port, tiny_train_config, tool_env

MAX_ITERS, INTERVAL = 9, 3


def _scenes_config(tmp_path, name, sleep=0.0, **kwargs):
    """The tiny model on a small SyntheticScenes folder with random
    augmentations, so that a resumed run must also restore the data order
    and the random state of the pipeline."""
    cfg = tiny_train_config(data_root=tmp_path / 'scenes', **kwargs)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(
            type='RandomResize',
            scale=(128, 64),
            ratio_range=(0.75, 1.25),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=(48, 48)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs'),
    ]
    scenes = dict(
        type='SyntheticScenesDataset',
        data_root=str(tmp_path / 'scenes'),
        generator_cfg=dict(seed=0, num_train=6, num_val=1, size=64))
    cfg['train_dataloader']['dataset'] = dict(
        scenes,
        pipeline=pipeline,
        data_prefix=dict(
            img_path='images/training', seg_map_path='annotations/training'))
    cfg['model']['data_preprocessor']['size'] = (48, 48)
    cfg['model']['decode_head']['num_classes'] = 13
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg',
                'test_dataloader', 'test_evaluator', 'test_cfg'):
        cfg.pop(key)
    cfg['train_cfg'] = dict(type='IterBasedTrainLoop', max_iters=MAX_ITERS)
    cfg['param_scheduler'] = [
        dict(
            type='PolyLR',
            power=0.9,
            eta_min=1e-4,
            begin=0,
            end=MAX_ITERS,
            by_epoch=False)
    ]
    cfg['default_hooks']['checkpoint']['interval'] = INTERVAL
    cfg['custom_hooks'] = [dict(type='CrashTestHook', sleep=sleep)]
    path = str(tmp_path / name)
    Config(cfg).dump(path)
    return path


def _train(cfg, work_dir, *args):
    out = subprocess.run([
        sys.executable,
        osp.join(TOOLS, 'train.py'), cfg, '--work-dir',
        str(work_dir), *args
    ],
                         env=tool_env(),
                         capture_output=True,
                         text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


def _wait_for(predicate, proc, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f'the process ended ({proc.returncode}) '
                                 f'before {what}')
        if time.monotonic() > deadline:
            raise AssertionError(f'no {what} within {timeout} s')
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path):
    fast = _scenes_config(tmp_path, 'fast.py')
    slow = _scenes_config(tmp_path, 'slow.py', sleep=0.4)
    _train(fast, tmp_path / 'straight')

    work = tmp_path / 'killed'
    proc = subprocess.Popen([
        sys.executable,
        osp.join(TOOLS, 'train.py'), slow, '--work-dir',
        str(work)
    ],
                            env=tool_env(),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: (work / 'last_checkpoint').exists(), proc, 300,
                  'first checkpoint')
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
    assert not (work / f'iter_{MAX_ITERS}.pth').exists()
    latest = (work / 'last_checkpoint').read_text()
    assert latest == str(work / f'iter_{INTERVAL}.pth')

    logs = _train(fast, work, '--resume')
    assert f'Load checkpoint from {latest}' in logs
    assert f'resumed epoch: 0, iter: {INTERVAL}' in logs

    final = f'iter_{MAX_ITERS}.pth'
    ref = torch.load(tmp_path / 'straight' / final, weights_only=True)
    got = torch.load(work / final, weights_only=True)
    assert got['meta']['iter'] == MAX_ITERS
    assert set(got['state_dict']) == set(ref['state_dict'])
    for key, value in ref['state_dict'].items():
        torch.testing.assert_close(
            got['state_dict'][key], value, rtol=0, atol=1e-6, msg=key)
    assert got['param_schedulers'] == ref['param_schedulers']


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_dist_train_exits_when_a_rank_is_killed(tmp_path):
    cfg = _scenes_config(tmp_path, 'dist.py', sleep=0.3)
    work = tmp_path / 'dist'
    proc = subprocess.Popen([
        'bash',
        osp.join(TOOLS, 'dist_train.sh'), cfg, '2', '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_iters=1000'
    ],
                            env=tool_env(PORT=str(free_port())),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            text=True,
                            start_new_session=True)
    pids = {}
    try:
        _wait_for(
            lambda: all((work / f'rank{r}.pid').exists() for r in (0, 1)),
            proc, 300, 'both ranks')
        pids = {r: int((work / f'rank{r}.pid').read_text()) for r in (0, 1)}
        time.sleep(2)  # both ranks inside the training loop
        os.kill(pids[1], signal.SIGKILL)
        killed_at = time.monotonic()
        try:
            logs, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError('dist_train.sh still runs 60 s after rank '
                                 '1 was killed')
        elapsed = time.monotonic() - killed_at
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in pids.values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert proc.returncode != 0, logs[-3000:]
    assert elapsed < 60
    assert not _alive(pids[0]), 'rank 0 outlived the job'
    print(f'dist_train.sh exited with {proc.returncode} {elapsed:.1f} s '
          'after rank 1 was killed')
