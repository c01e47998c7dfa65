"""Builders shared by the tests: data folders, tiny models and configs, the
environment of tool subprocesses.

``tests/helpers/hf.py`` builds transformers UperNets for the interop tests;
``tests/helpers/hooks.py`` holds hooks that subprocess configs load with
``custom_imports=dict(imports=['helpers.hooks'])`` (``tests/`` is on the
subprocess's ``PYTHONPATH``, see :func:`tool_env`). A test imports from
here, never from another test file.
"""
import importlib.util
import os
import os.path as osp
import socket
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TESTS = osp.join(ROOT, 'tests')
TOOLS = osp.join(ROOT, 'tools')
BASE = osp.join(ROOT, 'configs', '_base_')
CLASSES = ('bg', 'a', 'b', 'c')
GN = dict(type='GN', num_groups=4, requires_grad=True)
BN = dict(type='BN', requires_grad=True)


def make_seg_folder(root,
                    num_images=8,
                    size=(32, 40),
                    num_classes=4,
                    split='training',
                    seed=0):
    """Write ``num_images`` random image/annotation PNG pairs in the ADE20K
    folder layout under ``root`` and return ``root``."""
    import mmcv
    import numpy as np
    rng = np.random.default_rng(seed)
    h, w = size
    img_dir = root / 'images' / split
    ann_dir = root / 'annotations' / split
    img_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    for i in range(num_images):
        label = np.zeros((h, w), np.uint8)
        for c in range(1, num_classes):
            y, x = rng.integers(0, h - 8), rng.integers(0, w - 8)
            y1, x1 = y + rng.integers(4, h - y), x + rng.integers(4, w - x)
            label[y:y1, x:x1] = c
        img = (label[..., None] * 50 + rng.integers(0, 40, (h, w, 3))).astype(
            np.uint8)
        mmcv.imwrite(img, str(img_dir / f'{i:04d}.png'))
        mmcv.imwrite(label, str(ann_dir / f'{i:04d}.png'))
    return root


def tiny_uper_model(num_classes,
                    norm_cfg,
                    size=None,
                    dropout_ratio=0.0,
                    **extra):
    """A tiny UPerNet (ResNetV1c-18 at width 8, head of 16 channels) as a
    model config dict; ``size`` pads batches in the data preprocessor and
    ``extra`` adds or replaces top-level model fields (e.g. auxiliary_head,
    test_cfg)."""
    preprocessor = dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255)
    if size is not None:
        preprocessor['size'] = size
    model = dict(
        type='UPerEncoderDecoder',
        data_preprocessor=preprocessor,
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            out_indices=(0, 1, 2, 3),
            norm_cfg=norm_cfg),
        decode_head=dict(
            type='UPerHead',
            in_channels=[8, 16, 32, 64],
            in_index=[0, 1, 2, 3],
            channels=16,
            dropout_ratio=dropout_ratio,
            num_classes=num_classes,
            norm_cfg=norm_cfg),
        test_cfg=dict(mode='whole'))
    model.update(extra)
    return model


def seg_dataset(data_root, split='training', pipeline=None):
    """A ``BaseSegDataset`` config of a :func:`make_seg_folder` split."""
    return dict(
        type='BaseSegDataset',
        data_root=str(data_root),
        data_prefix=dict(
            img_path=f'images/{split}', seg_map_path=f'annotations/{split}'),
        img_suffix='.png',
        seg_map_suffix='.png',
        metainfo=dict(classes=CLASSES),
        pipeline=pipeline or [
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ])


def tiny_train_config(data_root, norm_cfg=GN, batch_size=2, max_iters=3):
    """A complete config (dict) for tools/train.py and tools/test.py: the
    tiny model on a :func:`make_seg_folder` folder (training and validation
    splits), our default_runtime, SGD, a checkpoint at the end, and a hook
    that saves every rank's final weights (``rank{N}.pth``)."""

    def loader(split, **kwargs):
        return dict(
            num_workers=0, dataset=seg_dataset(data_root, split), **kwargs)

    val = loader(
        'validation',
        batch_size=1,
        sampler=dict(type='DefaultSampler', shuffle=False))
    return dict(
        _base_=[osp.join(BASE, 'default_runtime.py')],
        custom_imports=dict(imports=['helpers.hooks']),
        model=tiny_uper_model(len(CLASSES), norm_cfg, size=(32, 40)),
        train_dataloader=loader(
            'training',
            batch_size=batch_size,
            sampler=dict(type='InfiniteSampler', shuffle=True)),
        val_dataloader=val,
        val_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        test_dataloader=dict(val),
        test_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        train_cfg=dict(
            type='IterBasedTrainLoop',
            max_iters=max_iters,
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
                type='ResumableCheckpointHook',
                by_epoch=False,
                interval=max_iters),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        custom_hooks=[dict(type='SaveRankWeightsHook')],
        randomness=dict(seed=0),
        env_cfg=dict(dist_cfg=dict(backend='nccl')))


def write_config(tmp_path, name, **kwargs):
    """Dump :func:`tiny_train_config` (``kwargs``) to ``tmp_path/name``."""
    from mmengine.config import Config
    path = str(tmp_path / name)
    Config(tiny_train_config(**kwargs)).dump(path)
    return path


def runner_kwargs(data_root, work_dir, max_iters=6, **extra):
    """Arguments of mmengine's ``Runner`` for an in-process run: the tiny
    model with BN and an auxiliary FCNHead, checkpoints every 2 iterations
    (our ``ResumableCheckpointHook``), seed 0; ``extra`` replaces fields."""
    model = tiny_uper_model(
        len(CLASSES),
        BN,
        size=(32, 40),
        auxiliary_head=dict(
            type='FCNHead',
            in_channels=32,
            in_index=2,
            channels=8,
            num_convs=1,
            dropout_ratio=0.0,
            num_classes=len(CLASSES),
            norm_cfg=BN,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4)))
    from mmengine.config import ConfigDict
    kwargs = dict(
        model=ConfigDict(model),
        work_dir=str(work_dir),
        train_dataloader=dict(
            batch_size=2,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=seg_dataset(data_root)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=dict(
                type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)),
        param_scheduler=[
            dict(
                type='PolyLR',
                power=0.9,
                eta_min=1e-4,
                begin=0,
                end=6,
                by_epoch=False)
        ],
        default_hooks=dict(
            checkpoint=dict(
                type='ResumableCheckpointHook', by_epoch=False, interval=2),
            logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        default_scope='upernet_mm',
        experiment_name=f'exp_{osp.basename(str(work_dir))}')
    kwargs.update(extra)
    return kwargs


def tool_env(**extra):
    """Environment of a tool subprocess: this checkout and ``tests/`` first
    on ``PYTHONPATH``, no CUDA, one thread, ``PYTHON`` for the shell
    tools."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [TESTS, ROOT, env.get('PYTHONPATH', '')])
    env['PYTHON'] = sys.executable
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['OMP_NUM_THREADS'] = '1'
    env.update(extra)
    return env


def load_tool(name):
    """The module ``tools/NAME`` (e.g. ``'deployment/export_onnx.py'``)
    loaded in this process, for tests of a tool's own command line
    (``parse_args``, ``main``); the logic behind it is tested through the
    ``upernet_mm`` functions it calls."""
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(name))[0] + '_tool', osp.join(TOOLS, name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(name, *args, check=True, timeout=600, **kwargs):
    """Run ``tools/NAME`` (a .py with this interpreter, a .sh with bash) and
    return the completed process; with ``check``, assert it succeeded."""
    path = osp.join(TOOLS, name)
    cmd = ['bash', path] if name.endswith('.sh') else [sys.executable, path]
    kwargs.setdefault('env', tool_env())
    out = subprocess.run(
        cmd + [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs)
    if check:
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def free_port():
    """A TCP port that is free now on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
