"""The unified parsing model through the tools, end to end on tiny
generated data: tools/train.py (texture stage, --resume, --amp),
tools/test.py, tools/infer.py and a 2-process tools/dist_train.sh run."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from helpers import BN, GN, ROOT, TOOLS
from helpers.broden import write_broden_like
from helpers.unified_parsing_model import tiny_upp_model

QUICK_START = osp.join(
    ROOT, 'configs', 'unified_parsing',
    'upernet-upp_convnext-atto_1xb8-700iter_unified-parsing-96x96.py')
TINY_DATA = dict(
    seed=0,
    size=64,
    num_train=dict(scenes=6, materials=4, textures=3),
    num_val=dict(scenes=2, materials=2, textures=1))
METRIC_KEYS = ('mIoU', 'aAcc', 'part_mIoU', 'part_aAcc', 'scene_top1',
               'scene_top5', 'material_mIoU', 'material_aAcc', 'texture_top1')

pytestmark = pytest.mark.slow


def tiny_train_config(data_root,
                      max_iters=6,
                      texture_begin=3,
                      norm_cfg=BN,
                      batch_size=2):
    """The quick start with a tiny model on tiny data: the texture stage
    from ``texture_begin``, checkpoints at ``texture_begin`` and the end,
    every rank's final weights saved (SaveRankWeightsHook)."""
    data = dict(data_root=str(data_root), generator_cfg=TINY_DATA)
    loader = dict(num_workers=0, persistent_workers=False, dataset=data)
    return dict(
        _base_=[QUICK_START],
        custom_imports=dict(
            imports=['mmpretrain.models', 'helpers.hooks'],
            allow_failed_imports=False),
        model=dict(
            _delete_=True, **tiny_upp_model(norm_cfg=norm_cfg, size=(96, 96))),
        train_dataloader=dict(
            batch_size=batch_size,
            batch_sampler=dict(stages=[
                dict(
                    begin=texture_begin,
                    source_weights=dict(scenes=0, materials=0, textures=1))
            ]),
            **loader),
        val_dataloader=loader,
        test_dataloader=loader,
        optim_wrapper=dict(optimizer=dict(lr=1e-3)),
        param_scheduler=[
            dict(
                type='ConstantLR',
                factor=1.0,
                by_epoch=False,
                begin=0,
                end=max_iters)
        ],
        train_cfg=dict(max_iters=max_iters, val_interval=max_iters),
        default_hooks=dict(
            logger=dict(interval=1),
            checkpoint=dict(interval=texture_begin, max_keep_ckpts=3)),
        custom_hooks=[
            dict(
                type='UnifiedParsingStageHook',
                texture_begin=texture_begin,
                texture_lr=1e-3),
            dict(type='SaveRankWeightsHook'),
        ])


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [osp.join(ROOT, 'tests'), ROOT,
         env.get('PYTHONPATH', '')])
    env['PYTHON'] = sys.executable
    env['CUDA_VISIBLE_DEVICES'] = ''
    env.setdefault('OMP_NUM_THREADS', '1')
    return env


def _run(cmd, **kwargs):
    out = subprocess.run(
        cmd, env=_env(), capture_output=True, text=True, timeout=900, **kwargs)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return out.stdout + out.stderr


def _write(path, cfg):
    Config(cfg).dump(str(path))
    return str(path)


def _weights(path):
    state = torch.load(path, map_location='cpu', weights_only=True)
    return state.get('state_dict', state)


def _last_val(work_dir):
    runs = sorted(
        glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json')))
    records = [json.loads(line) for line in open(runs[-1]) if line.strip()]
    return [r for r in records if 'mIoU' in r][-1]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One tiny single-process training run (6 iterations, texture stage
    from 3), shared by the tests below."""
    tmp = tmp_path_factory.mktemp('upp')
    cfg = _write(tmp / 'tiny.py', tiny_train_config(tmp / 'data'))
    work = tmp / 'work'
    log = _run([
        sys.executable,
        osp.join(TOOLS, 'train.py'), cfg, '--work-dir',
        str(work)
    ])
    return tmp, cfg, work, log


def test_train_logs_every_task_and_trains_texture_last(trained):
    tmp, cfg, work, log = trained
    assert 'stage "main" at iteration 0' in log
    assert 'texture stage from iteration 3' in log
    record = _last_val(work)
    for key in METRIC_KEYS:
        assert key in record, key
    # the texture stage changed the texture branch only (BatchNorm
    # statistics included: the rest stays in eval mode)
    main, final = _weights(work / 'iter_3.pth'), _weights(work / 'iter_6.pth')
    assert set(main) == set(final)
    texture = [k for k in main if k.startswith('decode_head.texture_head.')]
    assert texture and any(not torch.equal(main[k], final[k]) for k in texture)
    for key in main:
        if key not in texture:
            assert torch.equal(main[key], final[key]), key


def test_test_tool_prints_the_table_of_every_task(trained):
    tmp, cfg, work, _ = trained
    out = _run([
        sys.executable,
        osp.join(TOOLS, 'test.py'), cfg,
        str(work / 'iter_6.pth'), '--work-dir',
        str(tmp / 'test')
    ])
    for row in ('| object', '| part', '| scene', '| material', '| texture'):
        assert row in out, row


def test_infer_writes_every_tasks_outputs(trained):
    tmp, cfg, work, _ = trained
    images = tmp / 'images'
    images.mkdir()
    for source in ('scenes', 'materials', 'textures'):
        first = sorted(
            glob.glob(
                str(tmp / 'data' / source / 'images' / 'validation' / '*')))[0]
        os.symlink(first, images / f'{source}.jpg')
    out_dir = tmp / 'infer'
    _run([
        sys.executable,
        osp.join(TOOLS, 'infer.py'), cfg,
        str(work / 'iter_6.pth'),
        str(images), '--out-dir',
        str(out_dir), '--json'
    ])
    for folder in ('masks', 'overlays', 'part_masks', 'part_overlays',
                   'material_masks', 'material_overlays', 'levels'):
        names = sorted(os.listdir(out_dir / folder))
        assert names == ['materials.png', 'scenes.png', 'textures.png'], \
            folder
    summary = json.load(open(out_dir / 'summary.json'))
    for entry in summary['images']:
        for task in ('scene', 'texture'):
            top = entry[task]
            assert len(top) == 5
            assert all(0 <= c['score'] <= 1 and c['name'] for c in top)
            assert top == sorted(top, key=lambda c: -c['score'])
        assert entry['materials'] and 'parts' in entry


def test_resume_continues_in_the_texture_stage(trained):
    tmp, cfg, work, _ = trained
    resumed = tmp / 'resumed'
    os.makedirs(resumed)
    for name in ('iter_6.pth', 'last_checkpoint'):
        with open(work / name, 'rb') as src, open(resumed / name, 'wb') as d:
            d.write(src.read())
    with open(resumed / 'last_checkpoint', 'w') as f:
        f.write(str(resumed / 'iter_6.pth'))
    log = _run([
        sys.executable,
        osp.join(TOOLS, 'train.py'), cfg, '--work-dir',
        str(resumed), '--resume', '--cfg-options', 'train_cfg.max_iters=8',
        'train_cfg.val_interval=8'
    ])
    assert 'resumed' in log.lower() or 'Resumed' in log
    assert 'stage "texture" at iteration 6' in log
    assert (resumed / 'iter_8.pth').exists()


def test_amp_trains_every_task(tmp_path):
    cfg = _write(
        tmp_path / 'amp.py',
        tiny_train_config(tmp_path / 'data', max_iters=4, texture_begin=3))
    log = _run([
        sys.executable,
        osp.join(TOOLS, 'train.py'), cfg, '--work-dir',
        str(tmp_path / 'work'), '--amp'
    ])
    assert 'decode.loss_texture' in log
    record = _last_val(tmp_path / 'work')
    assert all(key in record for key in METRIC_KEYS)


def test_dist_train_two_ranks_end_with_equal_weights(tmp_path):
    """2 processes (gloo, CPU): every batch comes from one source on both
    ranks (SourceBatchSampler) and trains only that source's heads
    (find_unused_parameters=True); both ranks end with the same
    parameters. GroupNorm: no per-rank BatchNorm statistics to differ."""
    cfg = _write(
        tmp_path / 'dist.py',
        tiny_train_config(
            tmp_path / 'data', max_iters=6, texture_begin=4, norm_cfg=GN))
    port = str(29500 + (os.getpid() + 7) % 1000)
    out = subprocess.run([
        'bash',
        osp.join(TOOLS, 'dist_train.sh'), cfg, '2', '--work-dir',
        str(tmp_path / 'dist')
    ],
                         env=dict(_env(), PORT=port),
                         capture_output=True,
                         text=True,
                         timeout=900)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    log = out.stdout + out.stderr
    assert 'Distributed training: True' in log
    rank0 = torch.load(tmp_path / 'dist' / 'rank0.pth', weights_only=True)
    rank1 = torch.load(tmp_path / 'dist' / 'rank1.pth', weights_only=True)
    assert set(rank0) == set(rank1)
    for key in rank0:
        torch.testing.assert_close(
            rank0[key], rank1[key], rtol=0, atol=0, msg=key)
    # the heads really trained (the weights moved from the start)
    start = _weights(tmp_path / 'dist' / 'iter_4.pth')
    assert not torch.equal(start['decode_head.texture_head.cls.weight'],
                           rank0['decode_head.texture_head.cls.weight'])


def test_broden_plus_recipe_builds_and_trains_one_step(tmp_path):
    """The paper-scale recipe (ResNet-50, 512 trunk, 300-600 px short side,
    SGD, one source per batch, 16-bit-ready ignore_index 65535) on a tiny
    data root with Broden+'s four sources: one iteration, no validation,
    no pretrained download (no model hub here)."""
    recipe = osp.join(ROOT, 'configs', 'unified_parsing',
                      'upernet-upp_r50_8xb2-100k_broden-plus.py')
    data = dict(data_root=write_broden_like(tmp_path / 'data', TINY_DATA))
    cfg = _write(
        tmp_path / 'one_step.py',
        dict(
            _base_=[recipe],
            model=dict(pretrained=None),
            train_dataloader=dict(
                num_workers=0, persistent_workers=False, dataset=data),
            val_dataloader=dict(
                num_workers=0, persistent_workers=False, dataset=data),
            test_dataloader=dict(
                num_workers=0, persistent_workers=False, dataset=data),
            # one step of the main stage; the texture stage hook needs a run
            # that reaches its begin
            train_cfg=dict(max_iters=1, val_begin=2),
            default_hooks=dict(logger=dict(interval=1)),
            custom_hooks=[]))
    log = _run([
        sys.executable,
        osp.join(TOOLS, 'train.py'), cfg, '--work-dir',
        str(tmp_path / 'work')
    ])
    assert 'Iter(train) [1/1]' in log
    assert 'decode.loss_object' in log or 'decode.loss_material' in log
    state = _weights(tmp_path / 'work' / 'iter_1.pth')
    assert state['decode_head.fpn_bottleneck.conv.weight'].shape[0] == 512
    assert state['backbone.layer4.2.conv3.weight'].shape[0] == 2048
