"""tools/train.py, tools/test.py and tools/dist_train.sh end to end: one
process, two processes, two nodes (two torchrun agents on this machine),
and the timeouts that end a job whose rank hangs."""
import os
import subprocess
import time

import pytest
import torch
from mmengine.config import Config

from helpers import (TOOLS, free_port, make_seg_folder, run_tool,
                     tiny_train_config, tool_env, write_config)
from upernet_mm.engine.cpu_distributed import _sync_bn_to_bn


@pytest.fixture
def tiny(tmp_path):
    root = make_seg_folder(tmp_path / 'data', num_images=8)
    make_seg_folder(root, num_images=3, split='validation', seed=1)
    return tmp_path, root


@pytest.mark.slow
def test_train_then_test_single_process(tiny):
    tmp_path, root = tiny
    cfg = write_config(tmp_path, 'tiny.py', data_root=root)
    work = tmp_path / 'work'
    run_tool('train.py', cfg, '--work-dir', work, '--cfg-options',
             'train_cfg.max_iters=2', 'train_cfg.val_interval=2')
    ckpt = work / 'iter_2.pth'
    assert ckpt.exists()
    out = run_tool('test.py', cfg, ckpt, '--work-dir', tmp_path / 'test',
                   '--out', tmp_path / 'masks')
    assert 'mIoU' in out.stdout + out.stderr
    assert len(os.listdir(tmp_path / 'masks')) == 3


def _dist_train(cfg, work, nodes, port, *args):
    """tools/dist_train.sh with 2 processes in all: one torchrun agent with
    2 processes, or two agents (NNODES=2, NODE_RANK 0 and 1) with one
    process each, as on two machines."""
    if nodes == 1:
        return [
            run_tool(
                'dist_train.sh',
                cfg,
                '2',
                '--work-dir',
                work,
                *args,
                env=tool_env(PORT=str(port)))
        ]
    agents = [
        subprocess.Popen([
            'bash',
            os.path.join(TOOLS, 'dist_train.sh'), cfg, '1', '--work-dir',
            str(work), *args
        ],
                         env=tool_env(
                             NNODES='2',
                             NODE_RANK=str(rank),
                             PORT=str(port),
                             MASTER_ADDR='127.0.0.1'),
                         stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT,
                         text=True) for rank in (0, 1)
    ]
    outs = []
    try:
        for agent in agents:
            logs, _ = agent.communicate(timeout=600)
            assert agent.returncode == 0, logs[-3000:]
            outs.append(subprocess.CompletedProcess(agent.args, 0, logs, ''))
    finally:
        for agent in agents:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
    return outs


@pytest.mark.slow
@pytest.mark.parametrize('nodes', [1, 2])
def test_dist_train_two_cpu_processes_match_single_process(tiny, nodes):
    tmp_path, root = tiny
    # 2 processes x 2 images against 1 process x 4 images: the same samples
    # per step (InfiniteSampler strides one permutation over the ranks), and
    # GroupNorm keeps the statistics per sample, so DDP's averaged gradient
    # equals the single-process one up to float rounding.
    dist_cfg = write_config(tmp_path, 'dist.py', data_root=root)
    single_cfg = write_config(
        tmp_path, 'single.py', data_root=root, batch_size=4)
    dist = _dist_train(dist_cfg, tmp_path / 'dist', nodes, free_port())
    run_tool('train.py', single_cfg, '--work-dir', tmp_path / 'single')

    rank0 = torch.load(tmp_path / 'dist' / 'rank0.pth', weights_only=True)
    rank1 = torch.load(tmp_path / 'dist' / 'rank1.pth', weights_only=True)
    single = torch.load(tmp_path / 'single' / 'rank0.pth', weights_only=True)
    assert set(rank0) == set(single)
    for key in rank0:
        torch.testing.assert_close(rank0[key], rank1[key], rtol=0, atol=0)
        torch.testing.assert_close(
            rank0[key], single[key], rtol=1e-4, atol=1e-5, msg=key)
    init = torch.load(tmp_path / 'dist' / 'iter_3.pth', weights_only=True)
    assert init['meta']['iter'] == 3
    assert len(init['rng_state']) == 2  # one per rank
    logs = ''.join(out.stdout + out.stderr for out in dist)
    assert 'Distributed training: True' in logs
    assert 'GPU number: 2' in logs, logs[-3000:]


def test_dist_train_with_nnodes_needs_master_addr(tmp_path):
    env = tool_env(NNODES='2', NODE_RANK='1')
    env.pop('MASTER_ADDR', None)
    out = run_tool(
        'dist_train.sh', tmp_path / 'any.py', '1', env=env, check=False)
    assert out.returncode == 2
    assert 'NNODES=2 needs MASTER_ADDR' in out.stderr
    assert 'torch.distributed.run' not in out.stdout + out.stderr


@pytest.mark.slow
def test_hung_rank_ends_the_job_after_the_timeout(tiny):
    # rank 1 stops at iteration 1; rank 0 waits for it at the gradient
    # all-reduce for env_cfg.dist_cfg.timeout seconds, not gloo's 30 min
    tmp_path, root = tiny
    cfg = tiny_train_config(data_root=root, max_iters=1000)
    cfg['custom_hooks'] = [dict(type='HangRankHook', rank=1, iter=1)]
    path = str(tmp_path / 'hang.py')
    Config(cfg).dump(path)
    start = time.monotonic()
    out = run_tool(
        'dist_train.sh',
        path,
        '2',
        '--work-dir',
        tmp_path / 'w',
        '--cfg-options',
        'env_cfg.dist_cfg.timeout=5',
        env=tool_env(PORT=str(free_port())),
        check=False,
        timeout=300,
        start_new_session=True)
    elapsed = time.monotonic() - start
    logs = out.stdout + out.stderr
    assert out.returncode != 0, logs[-3000:]
    assert 'Timed out' in logs or 'timed out' in logs, logs[-3000:]
    print(f'job ended {elapsed:.0f} s after the start, rank 1 hung')


def test_sync_bn_reverted_for_cpu_distributed():
    cfg = Config(
        dict(
            model=tiny_train_config(
                '/nonexistent', norm_cfg=dict(type='SyncBN'))['model']))
    assert _sync_bn_to_bn(cfg.model) == 2
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert cfg.model.decode_head.norm_cfg.type == 'BN'
