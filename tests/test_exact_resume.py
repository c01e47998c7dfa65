"""tools/train.py --resume continues exactly like an uninterrupted run with
dropout, drop path, random augmentations in dataloader workers, a random
seed (none in the config, as in mmseg's configs) and a validation at the
checkpoint's iteration."""
import pytest
import torch
from mmengine.config import Config

from helpers import BASE, CLASSES, GN, make_seg_folder, run_tool, seg_dataset

MAX_ITERS, INTERVAL = 6, 3


def _config(tmp_path, name, data_root, exit_at=None):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(
            type='RandomResize',
            scale=(80, 64),
            ratio_range=(0.75, 1.25),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=(32, 32)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs'),
    ]
    head = dict(
        in_index=[0, 1, 2, 3],
        channels=16,
        dropout_ratio=0.1,
        num_classes=len(CLASSES),
        norm_cfg=GN)
    cfg = dict(
        _base_=[f'{BASE}/default_runtime.py'],
        custom_imports=dict(imports=['helpers.hooks']),
        model=dict(
            type='EncoderDecoder',
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                bgr_to_rgb=True,
                size=(32, 32),
                seg_pad_val=255),
            backbone=dict(
                type='mmpretrain.ConvNeXt',
                arch=dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64]),
                out_indices=(0, 1, 2, 3),
                drop_path_rate=0.3,
                layer_scale_init_value=0.0,  # so drop path matters
                gap_before_final_norm=False),
            decode_head=dict(
                type='UPerHead',
                in_channels=[8, 16, 32, 64],
                pool_scales=(1, 2),
                **head),
            auxiliary_head=dict(
                type='FCNHead',
                in_channels=32,
                in_index=2,
                channels=8,
                num_convs=1,
                dropout_ratio=0.1,
                num_classes=len(CLASSES),
                norm_cfg=GN),
            test_cfg=dict(mode='whole')),
        train_dataloader=dict(
            batch_size=2,
            num_workers=2,
            persistent_workers=True,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=seg_dataset(data_root, pipeline=pipeline)),
        val_dataloader=dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=seg_dataset(data_root, 'validation')),
        val_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        train_cfg=dict(
            type='IterBasedTrainLoop',
            max_iters=MAX_ITERS,
            val_interval=INTERVAL),
        val_cfg=dict(type='ValLoop'),
        optim_wrapper=dict(
            type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3)),
        param_scheduler=[
            dict(
                type='PolyLR',
                eta_min=1e-5,
                begin=0,
                end=MAX_ITERS,
                by_epoch=False)
        ],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(
                type='ResumableCheckpointHook',
                by_epoch=False,
                interval=INTERVAL),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        custom_hooks=[dict(type='ExitAtIterHook', iter=exit_at)]
        if exit_at else [])
    path = str(tmp_path / name)
    Config(cfg).dump(path)
    return path


@pytest.mark.slow
def test_resume_with_dropout_drop_path_and_workers_equals_straight_run(
        tmp_path):
    data = make_seg_folder(tmp_path / 'data', num_images=6, size=(48, 64))
    make_seg_folder(data, num_images=1, split='validation', size=(48, 64))
    interrupted = _config(tmp_path, 'stop.py', data, exit_at=INTERVAL)
    full = _config(tmp_path, 'full.py', data)

    work = tmp_path / 'resumed'
    out = run_tool('train.py', interrupted, '--work-dir', work, check=False)
    assert out.returncode == 3, out.stdout[-2000:] + out.stderr[-2000:]
    first = torch.load(work / f'iter_{INTERVAL}.pth', weights_only=True)
    seed = first['meta']['seed']  # random: the config sets none
    assert len(first['rng_state']) == 1
    assert not (work / f'iter_{MAX_ITERS}.pth').exists()

    out = run_tool('train.py', full, '--work-dir', work, '--resume')
    logs = out.stdout + out.stderr
    assert f'resumed epoch: 0, iter: {INTERVAL}' in logs
    assert 'different from the value in `randomness`' not in logs
    # the uninterrupted run, with the seed the first one drew
    run_tool('train.py', full, '--work-dir', tmp_path / 'straight',
             '--cfg-options', f'randomness.seed={seed}')

    final = f'iter_{MAX_ITERS}.pth'
    ref = torch.load(tmp_path / 'straight' / final, weights_only=True)
    got = torch.load(work / final, weights_only=True)
    assert got['meta']['seed'] == seed
    for key, value in ref['state_dict'].items():
        torch.testing.assert_close(
            got['state_dict'][key], value, rtol=0, atol=1e-6, msg=key)
    # the generators continue where the uninterrupted run's were
    for name in ('torch', ):
        torch.testing.assert_close(got['rng_state'][0][name],
                                   ref['rng_state'][0][name])
    assert got['rng_state'][0]['python'] == ref['rng_state'][0]['python']
