"""tools/ablate.py: what the seed changes, the table maths, resumed studies
and failed runs."""
import argparse
import itertools
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from helpers import ROOT, load_tool, tiny_uper_model
from upernet_mm.ablation import (RunSpec, compare, schedule_options, summarize,
                                 to_markdown)
from upernet_mm.ablation.runner import load_study, run_study
from upernet_mm.ablation.study import plan_runs, study_entries
from upernet_mm.ablation.table import fmt_diff, fmt_stat
from upernet_mm.cli_args import add_train_args, load_config
from upernet_mm.engine.runner_setup import build_runner

TINY_DATA = dict(seed=0, num_train=8, num_val=3, size=64)


def _load_tool(name):
    return load_tool(f'{name}.py')


def _write_tiny_configs(root, data_root):
    """A tiny parent config (SyntheticScenes at 64 px, 2 iterations) and a
    one-change child; returns their paths."""
    model = tiny_uper_model(
        13, dict(type='BN', requires_grad=True), size=(64, 64))
    data = dict(
        type='SyntheticScenesDataset',
        data_root=str(data_root),
        generator_cfg=TINY_DATA)
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(
            type='RandomResize',
            scale=(128, 64),
            ratio_range=(0.75, 1.5),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=(48, 48)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs')
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    parent = dict(
        default_scope='upernet_mm',
        model=model,
        train_dataloader=dict(
            batch_size=2,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=dict(
                data,
                data_prefix=dict(
                    img_path='images/training',
                    seg_map_path='annotations/training'),
                pipeline=train_pipeline)),
        val_dataloader=dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                data,
                data_prefix=dict(
                    img_path='images/validation',
                    seg_map_path='annotations/validation'),
                pipeline=test_pipeline)),
        val_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        optim_wrapper=dict(
            type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2),
        val_cfg=dict(type='ValLoop'),
        default_hooks=dict(
            logger=dict(
                type='LoggerHook', interval=1, log_metric_by_epoch=False),
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=2)),
        log_processor=dict(by_epoch=False),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=0),
        ablation_seeds=2)
    parent_path = root / 'tiny_parent.py'
    parent_path.write_text(''.join(f'{k} = {v!r}\n'
                                   for k, v in parent.items()))
    child_path = root / 'tiny-ch8_child.py'
    child_path.write_text("_base_ = ['./tiny_parent.py']\n"
                          'model = dict(decode_head=dict(channels=8))\n')
    return str(parent_path), str(child_path)


# --------------------------------------------------------------- table maths


def test_table_maths_against_a_hand_computation():
    # child 60, 62, 64: mean 62, deviations -2, 0, 2, sum of squares 8,
    # sample variance 8 / (3 - 1) = 4, std 2
    child = summarize([60.0, 62.0, 64.0])
    assert child['mean'] == pytest.approx(62.0)
    assert child['std'] == pytest.approx(2.0)
    assert child['n'] == 3
    # parent 55, 56, 57: mean 56, std 1; difference 6, noise 2 x (2 + 1) =
    # 6: the intervals [58, 66] and [54, 58] touch, within the noise
    near = summarize([55.0, 56.0, 57.0])
    d = compare(child, near)
    assert d['delta'] == pytest.approx(6.0)
    assert d['noise'] == pytest.approx(6.0)
    assert d['within_noise'] is True
    # parent 54, 55, 56: mean 55, std 1; difference 7 > 6: outside
    far = summarize([54.0, 55.0, 56.0])
    d = compare(child, far)
    assert d['delta'] == pytest.approx(7.0) and d['within_noise'] is False
    # 1 run: no spread, the mark is unknown; no run: nothing to compare
    one = summarize([61.0])
    assert one == dict(mean=61.0, std=None, n=1)
    assert compare(one, near)['within_noise'] is None
    assert compare(summarize([None]), near)['delta'] is None
    # unequal spreads: 10, 20 (mean 15, std 7.0711); 30, 30.5 (mean 30.25,
    # std 0.3536): difference 15.25 > 2 x 7.4246 = 14.85, outside
    a, b = summarize([10.0, 20.0]), summarize([30.0, 30.5])
    assert a['std'] == pytest.approx(50**0.5)
    d = compare(b, a)
    assert d['noise'] == pytest.approx(2 * (50**0.5 + 0.125**0.5))
    assert d['within_noise'] is False
    # the cells
    assert fmt_stat(child) == '62.00 ± 2.00'
    assert fmt_stat(one) == '61.00'
    assert fmt_diff(compare(child, near)) == '+6.00 ≈'
    assert fmt_diff(compare(child, far)) == '+7.00'
    assert fmt_diff(compare(one, near)) == '+5.00 ?'


def test_table_lists_every_logged_metric_and_failed_runs():
    runs = [
        dict(
            seed=0,
            status='ok',
            metrics={
                'mIoU': 50.0,
                'parts/mIoU': 20.0
            },
            time_s=10.0),
        dict(seed=1, status='failed', exit_code=3, metrics=None, time_s=1.0),
    ]
    row = dict(
        config='a',
        parent=None,
        params_m=1.5,
        runs=runs,
        stats=dict(mIoU=summarize([50.0]), time_s=summarize([10.0])),
        diff={})
    row['stats']['parts/mIoU'] = summarize([20.0])
    table = to_markdown([row], ['mIoU', 'parts/mIoU'])
    assert '| parts/mIoU | Δ parts/mIoU |' in table
    assert '| a | — | 1/2 | 50.00 | — | 20.00 | — | 1.500 | 10 |' in table
    assert 'seed 1 failed (exit code 3)' in table


# ---------------------------------------------------------------- the seed


def _runner_for_seed(tool, config, seed, work_dir):
    """Build the Runner the way tools/ablate.py's run of ``seed`` does:
    its tools/train.py command line, parsed with tools/train.py's
    arguments."""
    cmd = tool.train_command(RunSpec(config, 'x', seed, str(work_dir)), [])
    assert cmd[1] == tool.TRAIN
    parser = argparse.ArgumentParser()
    add_train_args(parser)
    return build_runner(load_config(parser.parse_args(cmd[2:])))


def test_seed_changes_initialisation_data_order_and_augmentation(tmp_path):
    tool = _load_tool('ablate')
    parent, _ = _write_tiny_configs(tmp_path, tmp_path / 'data')
    seen = []
    for k, seed in enumerate((0, 0, 1)):
        runner = _runner_for_seed(tool, parent, seed, tmp_path / f'w{k}')
        assert runner.seed == seed
        runner.model.init_weights()
        weights = torch.cat(
            [p.detach().flatten() for p in runner.model.parameters()])
        loader = runner.train_loop.dataloader
        order = list(itertools.islice(iter(loader.sampler), 16))
        sample = loader.dataset[0]  # random resize, crop, flip, colour
        seen.append((weights, order, sample['inputs'].float()))
    (w0, o0, a0), (w0b, o0b, a0b), (w1, o1, a1) = seen
    # the same seed repeats the run; another seed changes all three
    assert torch.equal(w0, w0b) and o0 == o0b and torch.equal(a0, a0b)
    assert not torch.equal(w0, w1)
    assert o0 != o1 and sorted(set(o0)) == sorted(set(o1))
    assert a0.shape != a1.shape or not torch.equal(a0, a1)


# ------------------------------------------------------ resume and failures


class FakeTraining:
    """Stands in for tools/train.py: writes a run's scalars.json the way
    mmengine's LoggerHook does, or fails for chosen (config, seed)."""

    def __init__(self, fail=()):
        self.calls, self.fail = [], set(fail)

    def __call__(self, spec):
        self.calls.append((spec.name, spec.seed))
        if (spec.name, spec.seed) in self.fail:
            return 3
        run = osp.join(spec.work_dir, f'2026010{len(self.calls)}_000000',
                       'vis_data')
        os.makedirs(run, exist_ok=True)
        miou = 50.0 + 10 * ('child' in spec.name) + spec.seed
        with open(osp.join(run, 'scalars.json'), 'w') as f:
            f.write(json.dumps(dict(lr=0.01, loss=1.0, step=1)) + '\n')
            f.write(
                json.dumps(
                    dict(
                        aAcc=80.0,
                        mIoU=miou,
                        mAcc=miou + 1,
                        data_time=0.1,
                        time=0.2,
                        step=2)) + '\n')
        return 0


def test_resumed_study_reuses_finished_runs_and_reports_failures(tmp_path):
    parent, child = _write_tiny_configs(tmp_path, tmp_path / 'data')
    work = str(tmp_path / 'study')
    configs = [parent, child]  # seeds: ablation_seeds=2

    fake = FakeTraining(fail={('tiny-ch8_child', 1)})
    _, failed, num_runs = run_study(configs, work, fake)
    assert failed == [('tiny-ch8_child', 1)] and num_runs == 4
    # seed by seed: every config's seed 0 before any seed 1
    assert fake.calls == [('tiny_parent', 0), ('tiny-ch8_child', 0),
                          ('tiny_parent', 1), ('tiny-ch8_child', 1)]
    with open(osp.join(work, 'ablation_results.json')) as f:
        result = json.load(f)
    rows = {r['config']: r for r in result['rows']}
    assert rows['tiny-ch8_child']['parent'] == 'tiny_parent'
    assert [r['status']
            for r in rows['tiny-ch8_child']['runs']] == ['ok', 'failed']
    assert result['metric_keys'] == ['mIoU', 'mAcc', 'aAcc']
    # per-run numbers kept; stats over the finished runs only
    assert [r['metrics']['mIoU']
            for r in rows['tiny_parent']['runs']] == [50.0, 51.0]
    stats = rows['tiny_parent']['stats']['mIoU']
    assert stats['mean'] == pytest.approx(50.5)
    assert stats['std'] == pytest.approx(0.5**0.5)
    assert rows['tiny-ch8_child']['stats']['mIoU']['n'] == 1
    diff = rows['tiny-ch8_child']['diff']['mIoU']
    assert diff['delta'] == pytest.approx(9.5)
    assert diff['within_noise'] is None  # one finished child run
    table = open(osp.join(work, 'ablation_results.md')).read()
    assert 'seed 1 failed (exit code 3)' in table
    assert '| tiny-ch8_child | tiny_parent | 1/2 | 60.00 | +9.50 ? |' in table

    # run again: the three finished runs are reused, the failed one retried
    fake = FakeTraining()
    assert run_study(configs, work, fake)[1] == []
    assert fake.calls == [('tiny-ch8_child', 1)]
    with open(osp.join(work, 'ablation_results.json')) as f:
        rows = {r['config']: r for r in json.load(f)['rows']}
    assert [r['reused'] for r in rows['tiny_parent']['runs']] == [True, True]
    diff = rows['tiny-ch8_child']['diff']['mIoU']
    assert diff['delta'] == pytest.approx(10.0)
    assert diff['within_noise'] is False  # 10 > 2 x (0.71 + 0.71)

    # an interrupted run (no record written) is trained again, alone
    os.remove(osp.join(work, 'tiny_parent', 'seed1', 'ablation_run.json'))
    fake = FakeTraining()
    assert run_study(configs, work, fake)[1] == []
    assert fake.calls == [('tiny_parent', 1)]
    # --no-train tabulates without training; a changed config retrains
    fake = FakeTraining()
    assert run_study(configs, work, fake, no_train=True)[1] == []
    assert fake.calls == []
    assert run_study(
        configs, work, fake, cfg_options={'train_cfg.max_iters': 3})[1] == []
    assert len(fake.calls) == 4


def test_seed_is_owned_by_the_study(tmp_path):
    parent, _ = _write_tiny_configs(tmp_path, tmp_path / 'data')
    work = str(tmp_path / 'study')
    with pytest.raises(ValueError, match='use --seeds'):
        run_study([parent],
                  work,
                  FakeTraining(),
                  cfg_options={'randomness.seed': 3})
    with pytest.raises(ValueError, match='--seeds must be an integer >= 1'):
        run_study([parent], work, FakeTraining(), seeds=0)


@pytest.mark.slow
def test_ablate_end_to_end_resumes_without_training_again(tmp_path):
    parent, child = _write_tiny_configs(tmp_path, tmp_path / 'data')
    work = tmp_path / 'study'
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'ablate.py'), parent, child, '--work-dir',
        str(work), '--seeds', '1', '--threads', '1'
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert '0 finished and reused, 2 to train' in out.stdout
    runs = sorted(os.listdir(work / 'tiny_parent' / 'seed0'))
    result = json.loads((work / 'ablation_results.json').read_text())
    for row in result['rows']:
        (run, ) = row['runs']
        assert run['status'] == 'ok' and 0 <= run['metrics']['mIoU'] <= 100
        assert row['params_m'] > 0 and run['time_s'] > 0
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert '2 finished and reused, 0 to train' in out.stdout
    assert sorted(os.listdir(work / 'tiny_parent' / 'seed0')) == runs


def test_context_distance_of_a_hand_made_label_map():
    from upernet_mm.datasets.synthetic_scenes_classes import CLASS_INDEX
    tool = _load_tool('analysis_tools/context_distance')
    label = np.full((10, 100), CLASS_INDEX['wall'], np.uint8)
    label[:, 0] = CLASS_INDEX['floor']  # the only room evidence: column 0
    label[:, 50] = CLASS_INDEX['painting']
    label[:, 60] = CLASS_INDEX['person']  # in both kinds: no evidence
    dist = tool.context_distances(label)
    assert set(dist) == {'wall', 'painting'}
    np.testing.assert_allclose(dist['painting'], 50, atol=0.5)
    assert dist['wall'].max() == pytest.approx(99, abs=0.5)
    label[:] = CLASS_INDEX['building']  # a street without street evidence
    assert np.isinf(tool.context_distances(label)['building']).all()


# ---------------------------------------------------------- schedule lengths


def test_schedule_options_move_the_decay_and_keep_the_warmup():
    cfg = Config(
        dict(
            train_cfg=dict(
                type='IterBasedTrainLoop', max_iters=3000, val_interval=750),
            param_scheduler=[
                dict(type='LinearLR', by_epoch=False, begin=0, end=200),
                dict(type='PolyLR', by_epoch=False, begin=200, end=3000)
            ],
            default_hooks=dict(
                checkpoint=dict(
                    type='CheckpointHook', by_epoch=False, interval=750))))
    assert schedule_options(cfg, 750) == {
        'train_cfg.max_iters': 750,
        'train_cfg.val_interval': 188,  # 750 x 750 / 3000 = 187.5
        'param_scheduler.1.end': 750,
        'default_hooks.checkpoint.interval': 188
    }
    assert schedule_options(cfg, 6000)['param_scheduler.1.end'] == 6000
    # the warm-up would not fit: named, with the scheduler
    with pytest.raises(
            ValueError,
            match=r'a.py: param_scheduler.1 \(PolyLR'
            r'\) begins at iteration 200'):
        schedule_options(cfg, 200, 'a.py')
    cfg.param_scheduler[0]['end'] = 1000  # a scheduler not ending at 3000
    with pytest.raises(
            ValueError,
            match=r'param_scheduler.0 \(LinearLR\) '
            'ends at iteration 1000, after the new max_iters 750'):
        schedule_options(cfg, 750)
    single = Config(
        dict(
            train_cfg=dict(max_iters=10, val_interval=1),
            param_scheduler=dict(type='PolyLR', by_epoch=False, end=10)))
    assert schedule_options(single, 5) == {
        'train_cfg.max_iters': 5,
        'train_cfg.val_interval': 1,  # 0.5 rounded up
        'param_scheduler.end': 5
    }
    assert schedule_options(single, 1)['train_cfg.val_interval'] == 1
    epochs = Config(
        dict(
            train_cfg=dict(max_iters=10),
            param_scheduler=[dict(type='PolyLR', end=10)]))
    with pytest.raises(ValueError, match='param_scheduler.0 .* epoch-based'):
        schedule_options(epochs, 5)
    with pytest.raises(ValueError, match='b.py: .*integer max_iters'):
        schedule_options(Config(dict(train_cfg=dict(max_epochs=3))), 5, 'b.py')
    with pytest.raises(ValueError, match='max_iters must be an integer'):
        schedule_options(cfg, 0)


def test_study_at_several_lengths_shares_runs_with_a_later_study(tmp_path):
    parent, child = _write_tiny_configs(tmp_path, tmp_path / 'data')
    work = str(tmp_path / 'study')
    fake = FakeTraining()
    # the parent alone at two lengths, one seed (the "noise" study)
    _, failed, num_runs = run_study([parent],
                                    work,
                                    fake,
                                    seeds=1,
                                    max_iters=[1, 3],
                                    table_name='noise')
    assert failed == [] and num_runs == 2
    assert fake.calls == [('tiny_parent-1iter', 0), ('tiny_parent-3iter', 0)]
    with open(osp.join(work, 'noise.json')) as f:
        result = json.load(f)
    assert result['settings']['max_iters'] == [1, 3]
    assert [(r['config'], r['max_iters'], r['parent'])
            for r in result['rows']] == [('tiny_parent-1iter', 1, None),
                                         ('tiny_parent-3iter', 3, None)]
    assert not osp.exists(osp.join(work, 'ablation_results.md'))
    # the rows at one length: the parent's run at that length is reused, the
    # child's parent is the parent at the same length, the tables apart
    fake = FakeTraining()
    assert run_study([parent, child], work, fake, seeds=1,
                     max_iters=[3])[1] == []
    assert fake.calls == [('tiny-ch8_child-3iter', 0)]
    with open(osp.join(work, 'ablation_results.json')) as f:
        rows = {r['config']: r for r in json.load(f)['rows']}
    assert rows['tiny-ch8_child-3iter']['parent'] == 'tiny_parent-3iter'
    assert rows['tiny_parent-3iter']['runs'][0]['reused'] is True
    assert '| tiny_parent-1iter |' in open(osp.join(work, 'noise.md')).read()
    # a repeated length, a folder as table name
    with pytest.raises(ValueError, match='repeats a length'):
        run_study([parent], work, fake, max_iters=[3, 3])
    with pytest.raises(ValueError, match='table name must be a file name'):
        run_study([parent], work, fake, table_name='../x')


def test_run_at_a_length_trains_what_the_study_fingerprinted(tmp_path):
    """The options of a run's tools/train.py command give the config the
    study resolved (and fingerprinted) for that entry."""
    tool = _load_tool('ablate')
    parent, _ = _write_tiny_configs(tmp_path, tmp_path / 'data')
    entries = study_entries([parent], [5])
    info = load_study(entries, 1, {'train_cfg.val_interval': 1})
    (spec, ) = plan_runs(entries, {e.name: [0]
                                   for e in entries}, str(tmp_path / 'w'),
                         {e.name: info[e.name]['options']
                          for e in entries})
    assert spec.name == 'tiny_parent-5iter'
    cmd = tool.train_command(spec, ['train_cfg.val_interval=1'])
    assert cmd[-1] == 'randomness.seed=0'
    parser = argparse.ArgumentParser()
    add_train_args(parser)
    cfg = load_config(parser.parse_args(cmd[2:]))
    resolved = info[spec.name]['resolved']
    # the study's interval (1 instead of 2) scaled to the new length:
    # 1 x 5 / 2 = 2.5, rounded half up; the checkpoint's 2 x 5 / 2
    assert cfg.train_cfg.to_dict() == resolved['train_cfg'] == dict(
        type='IterBasedTrainLoop', max_iters=5, val_interval=3)
    assert cfg.default_hooks.checkpoint.interval == 5
    assert cfg.default_hooks.to_dict() == resolved['default_hooks']
