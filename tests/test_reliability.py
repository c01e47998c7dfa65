"""Nothing lost: what a checkpoint holds and when it is written or deleted,
errors that stop training before anything broken is saved, timeouts, and
tools that read what a killed run left behind."""
import logging
import os
import os.path as osp

import cv2
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import MMLogger
from mmengine.runner import Runner

from helpers import (load_tool, make_seg_folder, runner_kwargs,
                     tiny_uper_model, write_config)
from upernet_mm.engine.hooks import (ResumableCheckpointHook,
                                     WeightsOnlyCheckpointHook)
from upernet_mm.engine.resume_state import (CheckpointContentError,
                                            prepare_resume)
from upernet_mm.engine.runner_setup import build_runner
from upernet_mm.engine.timeouts import (DATALOADER_TIMEOUT, DIST_TIMEOUT,
                                        apply_timeouts)
from upernet_mm.models.decode_heads import LabelValueError
from upernet_mm.registry import HOOKS, METRICS, MODELS


class _Crash(BaseException):
    """Stands for a kill: ``except Exception`` does not catch it."""


def _hook(runner, cls):
    return next(h for h in runner.hooks if isinstance(h, cls))


# 1. The weights-only conversion cannot be lost


def test_custom_hooks_of_a_config_keep_checkpoints_weights_only(
        seg_folder, tmp_path):
    # a config's own custom_hooks (here EMA) used to replace the converter
    work = tmp_path / 'ema'
    Runner(**runner_kwargs(
        seg_folder, work, max_iters=2, custom_hooks=[dict(
            type='EMAHook')])).train()
    ckpt = torch.load(work / 'iter_2.pth', weights_only=True)
    assert 'ema_state_dict' in ckpt and ckpt['meta']['iter'] == 2
    resumed = Runner(**runner_kwargs(
        seg_folder,
        tmp_path / 'again',
        max_iters=4,
        resume=True,
        load_from=str(work / 'iter_2.pth'),
        custom_hooks=[dict(type='EMAHook')]))
    resumed.train()
    assert resumed.iter == 4


class _AddsAnObject(Hook):
    priority = 'NORMAL'

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint['meta']['tracker'] = object()


def test_entry_that_cannot_be_converted_fails_the_first_save(
        seg_folder, tmp_path):
    runner = Runner(**runner_kwargs(
        seg_folder,
        tmp_path / 'w',
        max_iters=2,
        custom_hooks=[_AddsAnObject()]))
    with pytest.raises(CheckpointContentError) as info:
        runner.train()
    assert 'checkpoint.meta.tracker (object)' in str(info.value)
    assert not (tmp_path / 'w' / 'iter_2.pth').exists()


class _EditsLast(Hook):
    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint):
        pass


def test_hook_editing_checkpoints_after_ours_is_refused(seg_folder, tmp_path):
    runner = Runner(**runner_kwargs(
        seg_folder, tmp_path / 'w', max_iters=2, custom_hooks=[_EditsLast()]))
    with pytest.raises(
            RuntimeError, match=r"\['_EditsLast'\] run\(s\) "
            'after it'):
        runner.train()


def test_plain_checkpoint_hook_name_is_mmengines_and_runner_setup_adds_the_converter(  # noqa: E501
        seg_folder, tmp_path, scope):
    scope('upernet_mm')
    assert HOOKS.get('CheckpointHook') is CheckpointHook
    assert HOOKS.get('ResumableCheckpointHook') is ResumableCheckpointHook
    root = make_seg_folder(tmp_path / 'data', num_images=4)
    make_seg_folder(root, num_images=1, split='validation')
    cfg = Config.fromfile(
        write_config(tmp_path, 'c.py', data_root=root, max_iters=2))
    cfg.default_hooks.checkpoint.type = 'CheckpointHook'  # a mmseg config
    cfg.custom_hooks = []
    cfg.pop('custom_imports')
    cfg.work_dir = str(tmp_path / 'w')
    cfg.launcher = 'none'
    runner = build_runner(cfg)
    assert type(_hook(runner, CheckpointHook)) is CheckpointHook
    assert _hook(runner, WeightsOnlyCheckpointHook)
    runner.train()
    saved = torch.load(tmp_path / 'w' / 'iter_2.pth', weights_only=True)
    assert len(saved['rng_state']) == 1


# 4. save_best: the new best checkpoint first, then the old one deleted


@METRICS.register_module()
class _RisingScore:
    """A stand-in metric: 1, 2, 3, ... at successive validations."""

    def __init__(self, collect_device='cpu'):
        self.count = 0
        self.dataset_meta = None

    def process(self, data_batch, data_samples):
        pass

    def evaluate(self, size):
        self.count += 1
        return dict(score=float(self.count))


def _best_kwargs(seg_folder, work, **extra):
    kwargs = runner_kwargs(seg_folder, work, max_iters=6, **extra)
    kwargs['default_hooks']['checkpoint'].update(
        save_best='score', rule='greater')
    kwargs['train_cfg']['val_interval'] = 2
    kwargs.update(
        val_dataloader=dict(
            kwargs['train_dataloader'],
            batch_size=1,
            sampler=dict(type='DefaultSampler', shuffle=False)),
        val_evaluator=dict(type='_RisingScore'),
        val_cfg=dict(type='ValLoop'))
    return kwargs


def test_crash_while_saving_a_new_best_keeps_the_old_best(
        seg_folder, tmp_path, monkeypatch):
    work = tmp_path / 'w'
    runner = Runner(**_best_kwargs(seg_folder, work))
    real = Runner.save_checkpoint

    def save(self, out_dir, filename, *args, **kwargs):
        if filename == 'best_score_iter_4.pth':
            raise _Crash
        return real(self, out_dir, filename, *args, **kwargs)

    monkeypatch.setattr(Runner, 'save_checkpoint', save)
    with pytest.raises(_Crash):
        runner.train()
    assert (work / 'best_score_iter_2.pth').exists()  # mmengine deleted it


def test_best_checkpoint_replaced_and_outside_paths_left_alone(
        seg_folder, tmp_path):
    work = tmp_path / 'w'
    Runner(**_best_kwargs(seg_folder, work)).train()
    bests = sorted(n for n in os.listdir(work) if n.startswith('best_'))
    assert bests == ['best_score_iter_6.pth']

    # a resumed checkpoint naming a file elsewhere as the best one
    outside = tmp_path / 'precious.pth'
    outside.write_bytes(b'x')
    runner = Runner(**_best_kwargs(seg_folder, tmp_path / 'w2'))
    hook = _hook(runner, ResumableCheckpointHook)
    runner.train()  # sets up out_dir and the file backend
    hook.best_ckpt_path = str(outside)
    runner.message_hub.update_info('best_score', 0.0)
    hook._save_best_checkpoint(runner, dict(score=10.0))
    assert outside.exists()


# 5. timeouts


def test_timeouts_are_set_unless_the_config_sets_them(seg_folder):
    cfg = Config(
        dict(
            train_dataloader=dict(num_workers=2),
            val_dataloader=dict(num_workers=0),
            test_dataloader=dict(num_workers=1, timeout=0)))
    apply_timeouts(cfg)
    assert cfg.env_cfg.dist_cfg.timeout == DIST_TIMEOUT
    assert cfg.train_dataloader.timeout == DATALOADER_TIMEOUT
    assert 'timeout' not in cfg.val_dataloader  # no workers: no timeout
    assert cfg.test_dataloader.timeout == 0  # the config's choice
    cfg.env_cfg.dist_cfg.timeout = '10'
    with pytest.raises(ValueError, match='env_cfg.dist_cfg.timeout must be'):
        apply_timeouts(cfg)


class _Hangs:

    def __getitem__(self, index):
        import time
        time.sleep(60)

    def __len__(self):
        return 4


def test_dataloader_timeout_ends_a_hung_worker(seg_folder, tmp_path):
    runner = Runner(**runner_kwargs(seg_folder, tmp_path / 'w'))
    loader = runner.build_dataloader(
        dict(
            dataset=_Hangs(),
            batch_size=1,
            num_workers=1,
            timeout=2,
            sampler=dict(type='DefaultSampler', shuffle=False)))
    with pytest.raises(RuntimeError, match='timed out after 2 seconds'):
        next(iter(loader))


# 7. a label value the loss cannot take


def test_out_of_range_label_in_training_names_the_file_and_saves_nothing(
        seg_folder, tmp_path):
    bad = str(seg_folder / 'annotations' / 'training' / '0005.png')
    label = cv2.imread(bad, cv2.IMREAD_UNCHANGED)
    label[3:5, 4:7] = 201
    cv2.imwrite(bad, label)
    work = tmp_path / 'w'
    kwargs = runner_kwargs(seg_folder, work, max_iters=40)
    kwargs['default_hooks']['checkpoint']['interval'] = 1
    runner = Runner(**kwargs)
    with pytest.raises(LabelValueError) as info:
        runner.train()
    msg = str(info.value)
    assert f'{bad}: 201 (6 pixels)' in msg
    assert 'outside 0..3 (num_classes=4)' in msg and 'ignore index 255' in msg
    failed_at = runner.iter + 1
    saved = sorted(
        int(n[5:-4]) for n in os.listdir(work) if n.startswith('iter_'))
    assert saved == list(range(1, failed_at))  # nothing after the failure
    if saved:
        last = torch.load(work / f'iter_{saved[-1]}.pth', weights_only=True)
        assert all(
            torch.isfinite(v).all() for v in last['state_dict'].values()
            if v.is_floating_point())


# 8. what a killed run leaves behind


def test_last_checkpoint_of_a_moved_work_dir_still_resumes(
        seg_folder, tmp_path):
    work = tmp_path / 'old'
    Runner(**runner_kwargs(seg_folder, work, max_iters=2)).train()
    assert osp.isabs((work / 'last_checkpoint').read_text())
    moved = tmp_path / 'new'
    os.rename(work, moved)
    cfg = Config(dict(work_dir=str(moved), resume=True, load_from=None))
    prepare_resume(cfg)
    assert cfg.load_from == str(moved / 'iter_2.pth')
    assert cfg.randomness.seed == 0


def test_relative_out_dir_gives_an_absolute_last_checkpoint(
        seg_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    kwargs = runner_kwargs(seg_folder, tmp_path / 'w', max_iters=2)
    kwargs['default_hooks']['checkpoint']['out_dir'] = 'ckpts'
    Runner(**kwargs).train()
    pointer = (tmp_path / 'w' / 'last_checkpoint').read_text()
    assert pointer == str(tmp_path / 'ckpts' / 'w' / 'iter_2.pth')


def _analyze_logs():
    return load_tool('analysis_tools/analyze_logs.py')


def test_analyze_logs_reads_a_log_cut_mid_record(tmp_path, capsys):
    log = tmp_path / 'scalars.json'
    log.write_text('{"loss": 1.0, "iter": 1, "step": 1}\n'
                   '{"loss": 0.5, "iter": 2, "step": 2}\n'
                   '{"loss": 0.2, "it')
    series = _analyze_logs().load_run(str(log))
    assert series['loss'] == {1: 1.0, 2: 0.5}
    assert f'{log}:3: skipped the incomplete last record' in \
        capsys.readouterr().err
    log.write_text('{"loss": 1.0, "it\n{"loss": 0.5, "iter": 2, "step": 2}\n')
    with pytest.raises(ValueError, match=f'{log}:1: not a scalar record'):
        _analyze_logs().load_run(str(log))


@MODELS.register_module()
class _NeedsLargeInput(torch.nn.Module):
    """A backbone that cannot run on the head check's 64x64 image."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3)

    def forward(self, x):
        if x.shape[-1] < 128:
            raise ValueError('input smaller than 128 pixels')
        return [self.conv(x)]


def test_head_check_that_cannot_run_logs_a_warning(scope):
    scope('upernet_mm')
    model = tiny_uper_model(4, dict(type='BN'))
    model['backbone'] = dict(type='_NeedsLargeInput')
    model['decode_head'].update(in_channels=[8], in_index=[0])
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        MODELS.build(model)
    finally:
        logger.removeHandler(handler)
    skipped = [
        r for r in records if 'Head input check skipped' in r.getMessage()
    ]
    assert skipped and skipped[0].levelno == logging.WARNING


def test_load_from_without_resume_keeps_fresh_random_streams(
        seg_folder, tmp_path):
    from upernet_mm.engine.resume_state import rng_state

    class _Record(Hook):

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter == 0:
                self.state = rng_state()['torch']

    work = tmp_path / 'first'
    Runner(**runner_kwargs(seg_folder, work, max_iters=2)).train()
    fresh, loaded = _Record(), _Record()
    Runner(**runner_kwargs(
        seg_folder, tmp_path /
        'a', max_iters=1, custom_hooks=[fresh])).train()
    Runner(**runner_kwargs(
        seg_folder,
        tmp_path / 'b',
        max_iters=1,
        load_from=str(work / 'iter_2.pth'),
        custom_hooks=[loaded])).train()
    # fine-tuning from a checkpoint draws what a fresh run with the seed does
    assert torch.equal(fresh.state, loaded.state)
