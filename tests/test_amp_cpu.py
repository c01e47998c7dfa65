"""--amp without CUDA: bfloat16 autocast (BF16AmpOptimWrapper); and the
tools end to end: train with --amp, test with and without --deploy."""
import os
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict

from helpers import ROOT
from upernet_mm.engine.amp import configure_amp
from upernet_mm.engine.optim_wrappers import BF16AmpOptimWrapper


def _cfg(**wrapper):
    return Config(
        dict(
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1), **wrapper)))


def test_amp_on_cpu_becomes_bf16_autocast():
    cfg = _cfg(type='OptimWrapper')
    assert configure_amp(
        cfg, True, has_amp_device=False, native_bf16=True) == \
        'upernet_mm.BF16AmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    assert cfg.optim_wrapper.device_type == 'cpu'


def test_amp_with_accelerator_keeps_mmengine_amp():
    cfg = _cfg(type='OptimWrapper')
    assert configure_amp(cfg, True, has_amp_device=True) == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'


def test_config_amp_wrapper_on_cpu_is_converted_even_without_flag():
    cfg = _cfg(type='AmpOptimWrapper', loss_scale='dynamic')
    assert configure_amp(
        cfg, False, has_amp_device=False, native_bf16=True) == \
        'upernet_mm.BF16AmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper


def test_amp_on_cpu_without_bf16_instructions_trains_in_float32():
    # where bfloat16 is emulated, --amp and an AmpOptimWrapper in the config
    # both give the float32 OptimWrapper with the same optimizer
    plain = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    cfg = _cfg(type='OptimWrapper')
    assert configure_amp(
        cfg, True, has_amp_device=False, native_bf16=False) == 'OptimWrapper'
    assert cfg.optim_wrapper.to_dict() == plain
    cfg = _cfg(type='AmpOptimWrapper', loss_scale='dynamic')
    assert configure_amp(
        cfg, False, has_amp_device=False, native_bf16=False) == 'OptimWrapper'
    assert cfg.optim_wrapper.to_dict() == plain
    # a config naming the bfloat16 wrapper itself keeps it
    cfg = _cfg(type='upernet_mm.BF16AmpOptimWrapper', device_type='cpu')
    assert configure_amp(
        cfg, False, has_amp_device=False,
        native_bf16=False) == 'upernet_mm.BF16AmpOptimWrapper'


def test_no_amp_leaves_config_alone_and_bad_wrapper_is_refused():
    cfg = _cfg(type='OptimWrapper')
    assert configure_amp(cfg, False, has_amp_device=False) == 'OptimWrapper'
    cfg = _cfg(type='ZeroRedundancyOptimizer')
    with pytest.raises(ValueError, match='ZeroRedundancyOptimizer'):
        configure_amp(cfg, True, has_amp_device=False)


def test_bf16_wrapper_autocasts_forward_and_keeps_fp32_weights():
    from upernet_mm.registry import OPTIM_WRAPPERS
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    optim = OPTIM_WRAPPERS.build(
        ConfigDict(
            type='upernet_mm.BF16AmpOptimWrapper',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    assert isinstance(optim, BF16AmpOptimWrapper)
    before = model[0].weight.detach().clone()
    with optim.optim_context(model):
        out = model(torch.randn(2, 3, 8, 8))
        loss = out.float().square().mean()
    assert out.dtype == torch.bfloat16
    optim.update_params(loss)
    assert model[0].weight.dtype == torch.float32
    assert not torch.equal(model[0].weight, before)
    with optim.optim_context(model):
        pass
    assert not torch.is_autocast_enabled('cpu')


def _write_data(root, split, n, seed):
    rng = np.random.default_rng(seed)
    for sub in ('images', 'annotations'):
        os.makedirs(osp.join(root, sub, split), exist_ok=True)
    for i in range(n):
        label = np.zeros((32, 40), np.uint8)
        label[rng.integers(0, 16):, rng.integers(0, 20):] = 1
        label[:rng.integers(4, 16), :rng.integers(4, 20)] = 2
        img = (label[..., None] * 80 + rng.integers(0, 40, (32, 40, 3)))
        mmcv.imwrite(
            img.astype(np.uint8), osp.join(root, 'images', split, f'{i}.png'))
        mmcv.imwrite(label, osp.join(root, 'annotations', split, f'{i}.png'))


def _tiny_config(root):
    bn = dict(type='BN', requires_grad=True)
    dataset = dict(
        type='BaseSegDataset',
        data_root=str(root),
        img_suffix='.png',
        seg_map_suffix='.png',
        metainfo=dict(classes=('a', 'b', 'c')),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ])
    loader = dict(
        batch_size=1,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            dataset,
            data_prefix=dict(
                img_path='images/val', seg_map_path='annotations/val')))
    return dict(
        _base_=[osp.join(ROOT, 'configs', '_base_', 'default_runtime.py')],
        model=dict(
            type='UPerEncoderDecoder',
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[120.0] * 3,
                std=[60.0] * 3,
                bgr_to_rgb=True,
                size=(32, 40),
                seg_pad_val=255),
            backbone=dict(
                type='ResNetV1c',
                depth=18,
                stem_channels=8,
                base_channels=8,
                norm_cfg=bn),
            decode_head=dict(
                type='UPerHead',
                in_channels=[8, 16, 32, 64],
                in_index=[0, 1, 2, 3],
                channels=16,
                dropout_ratio=0.0,
                num_classes=3,
                norm_cfg=bn),
            test_cfg=dict(mode='whole')),
        train_dataloader=dict(
            batch_size=2,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=dict(
                dataset,
                data_prefix=dict(
                    img_path='images/train',
                    seg_map_path='annotations/train'))),
        val_dataloader=loader,
        test_dataloader=loader,
        val_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        test_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        train_cfg=dict(
            type='IterBasedTrainLoop', max_iters=2, val_interval=100),
        val_cfg=dict(type='ValLoop'),
        test_cfg=dict(type='TestLoop'),
        optim_wrapper=dict(
            type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05)),
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=2)),
        randomness=dict(seed=0))


def _run(*args):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='')
    out = subprocess.run([sys.executable, *args],
                         env=env,
                         cwd=ROOT,
                         capture_output=True,
                         text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


@pytest.mark.slow
def test_train_amp_then_test_deploy_gives_the_same_masks(tmp_path):
    root = tmp_path / 'data'
    _write_data(root, 'train', 4, 0)
    _write_data(root, 'val', 2, 1)
    cfg = str(tmp_path / 'tiny.py')
    Config(_tiny_config(root)).dump(cfg)
    work = tmp_path / 'work'
    log = _run('tools/train.py', cfg, '--amp', '--work-dir', str(work))
    assert 'bfloat16 autocast' in log
    ckpt = str(work / 'iter_2.pth')
    masks = {}
    for name, extra in (('plain', []), ('deploy', ['--deploy'])):
        out_dir = tmp_path / name
        log = _run('tools/test.py', cfg, ckpt, '--work-dir',
                   str(tmp_path / f'w_{name}'), '--out', str(out_dir), *extra)
        assert 'mIoU' in log
        masks[name] = {
            f: mmcv.imread(str(out_dir / f), 'unchanged')
            for f in sorted(os.listdir(out_dir))
        }
    assert 'DeployHook: model in deploy form' in log
    assert len(masks['plain']) == 2
    for f, mask in masks['plain'].items():
        np.testing.assert_array_equal(masks['deploy'][f], mask)
