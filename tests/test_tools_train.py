"""tools/train.py, tools/test.py and tools/dist_train.sh end to end."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from conftest import tiny_uper_model
from upernet_mm.engine.cpu_distributed import _sync_bn_to_bn

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(ROOT, 'tools')
CLASSES = ('bg', 'a', 'b', 'c')
GN = dict(type='GN', num_groups=4, requires_grad=True)


def _tiny_config(data_root, norm_cfg=GN, batch_size=2, max_iters=3):
    dataset = dict(
        type='BaseSegDataset',
        data_root=str(data_root),
        img_suffix='.png',
        seg_map_suffix='.png',
        metainfo=dict(classes=CLASSES),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ])
    train_set = dict(dataset, data_prefix=dict(
        img_path='images/training', seg_map_path='annotations/training'))
    return dict(
        _base_=[osp.join(ROOT, 'configs', '_base_', 'default_runtime.py')],
        custom_imports=dict(imports=['rank_weights_hook']),
        model=tiny_uper_model(len(CLASSES), norm_cfg, size=(32, 40)),
        train_dataloader=dict(
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=train_set),
        val_dataloader=dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(dataset, data_prefix=dict(
                img_path='images/validation',
                seg_map_path='annotations/validation'))),
        val_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        test_dataloader=dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(dataset, data_prefix=dict(
                img_path='images/validation',
                seg_map_path='annotations/validation'))),
        test_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters,
                       val_interval=max_iters),
        val_cfg=dict(type='ValLoop'),
        test_cfg=dict(type='TestLoop'),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                type='CheckpointHook', by_epoch=False, interval=max_iters),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        custom_hooks=[
            dict(type='WeightsOnlyCheckpointHook'),
            dict(type='SaveRankWeightsHook')
        ],
        randomness=dict(seed=0),
        env_cfg=dict(dist_cfg=dict(backend='nccl')))


@pytest.fixture
def tiny(tmp_path):
    from conftest import make_seg_folder
    root = make_seg_folder(tmp_path / 'data', num_images=8)
    make_seg_folder(root, num_images=3, split='validation', seed=1)
    return tmp_path, root


def _write_config(tmp_path, name, **kwargs):
    path = str(tmp_path / name)
    Config(_tiny_config(**kwargs)).dump(path)
    return path


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [osp.join(ROOT, 'tests'), ROOT, env.get('PYTHONPATH', '')])
    env['PYTHON'] = sys.executable
    env['CUDA_VISIBLE_DEVICES'] = ''
    return env


def _run(cmd, **kwargs):
    out = subprocess.run(cmd, env=_env(), capture_output=True, text=True,
                         timeout=600, **kwargs)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def test_train_then_test_single_process(tiny):
    tmp_path, root = tiny
    cfg = _write_config(tmp_path, 'tiny.py', data_root=root)
    work = tmp_path / 'work'
    _run([sys.executable, osp.join(TOOLS, 'train.py'), cfg, '--work-dir',
          str(work), '--cfg-options', 'train_cfg.max_iters=2',
          'train_cfg.val_interval=2'])
    ckpt = work / 'iter_2.pth'
    assert ckpt.exists()
    out = _run([sys.executable, osp.join(TOOLS, 'test.py'), cfg, str(ckpt),
                '--work-dir', str(tmp_path / 'test'), '--out',
                str(tmp_path / 'masks')])
    assert 'mIoU' in out.stdout + out.stderr
    assert len(os.listdir(tmp_path / 'masks')) == 3


def test_dist_train_two_cpu_processes_match_single_process(tiny):
    tmp_path, root = tiny
    # 2 processes x 2 images against 1 process x 4 images: the same samples
    # per step (InfiniteSampler strides one permutation over the ranks), and
    # GroupNorm keeps the statistics per sample, so DDP's averaged gradient
    # equals the single-process one up to float rounding.
    dist_cfg = _write_config(tmp_path, 'dist.py', data_root=root)
    single_cfg = _write_config(tmp_path, 'single.py', data_root=root,
                               batch_size=4)
    env_port = str(29500 + os.getpid() % 1000)
    dist = subprocess.run(
        ['bash', osp.join(TOOLS, 'dist_train.sh'), dist_cfg, '2',
         '--work-dir', str(tmp_path / 'dist')],
        env=dict(_env(), PORT=env_port), capture_output=True, text=True,
        timeout=600)
    assert dist.returncode == 0, dist.stdout[-3000:] + dist.stderr[-3000:]
    _run([sys.executable, osp.join(TOOLS, 'train.py'), single_cfg,
          '--work-dir', str(tmp_path / 'single')])

    rank0 = torch.load(tmp_path / 'dist' / 'rank0.pth', weights_only=True)
    rank1 = torch.load(tmp_path / 'dist' / 'rank1.pth', weights_only=True)
    single = torch.load(tmp_path / 'single' / 'rank0.pth', weights_only=True)
    assert set(rank0) == set(single)
    for key in rank0:
        torch.testing.assert_close(rank0[key], rank1[key], rtol=0, atol=0)
        torch.testing.assert_close(rank0[key], single[key], rtol=1e-4,
                                   atol=1e-5, msg=key)
    init = torch.load(tmp_path / 'dist' / 'iter_3.pth', weights_only=True)
    assert init['meta']['iter'] == 3
    logs = dist.stdout + dist.stderr
    assert 'Distributed training: True' in logs


def test_sync_bn_reverted_for_cpu_distributed():
    cfg = Config(dict(model=_tiny_config(
        '/nonexistent', norm_cfg=dict(type='SyncBN'))['model']))
    assert _sync_bn_to_bn(cfg.model) == 2
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert cfg.model.decode_head.norm_cfg.type == 'BN'
