"""Checkpoints that would run code, delete files or leak trust: each payload
here did its harm with upernet_mm before the fix (a marker file appeared, a
file outside the work dir was deleted, a replaced file was unpickled), and
must not now, on every entry point that reaches it."""
import builtins
import fractions
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from helpers import ROOT, make_seg_folder, tiny_uper_model
from upernet_mm.safe_io import (UnsafeCheckpointError, load_from_local,
                                require_inside, sha256_of_file,
                                trust_checkpoint)

CLASSES = ('bg', 'a', 'b', 'c')
NORM = dict(type='GN', num_groups=4, requires_grad=True)


class _Payload:
    """Unpickling this creates ``marker`` (any code could run instead)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.exec, (f'open({self.marker!r}, "w").close()', )


def _env(**extra):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [osp.join(ROOT, 'tests'), ROOT,
         env.get('PYTHONPATH', '')])
    env['CUDA_VISIBLE_DEVICES'] = ''
    env.update(extra)
    return env


def _config(data_root, work_dir, max_iters=2, **extra):
    """A tiny train+val config in upernet_mm's scope (checkpoints written
    weights-only, as with the shipped configs)."""
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
    loader = dict(
        batch_size=1,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False))
    cfg = dict(
        _base_=[osp.join(ROOT, 'configs', '_base_', 'default_runtime.py')],
        model=tiny_uper_model(len(CLASSES), NORM, size=(32, 40)),
        work_dir=str(work_dir),
        train_dataloader=dict(
            loader,
            batch_size=2,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=dict(
                dataset,
                data_prefix=dict(
                    img_path='images/training',
                    seg_map_path='annotations/training'))),
        val_dataloader=dict(
            loader,
            dataset=dict(
                dataset,
                data_prefix=dict(
                    img_path='images/training',
                    seg_map_path='annotations/training'))),
        val_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        train_cfg=dict(
            type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1),
        val_cfg=dict(type='ValLoop'),
        optim_wrapper=dict(
            type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                type='ResumableCheckpointHook',
                by_epoch=False,
                interval=1,
                save_best='mIoU',
                rule='greater')),
        randomness=dict(seed=0))
    cfg.update(extra)
    return cfg


def _config_file(tmp_path, name, **kwargs):
    path = str(tmp_path / name)
    Config(_config(**kwargs)).dump(path)
    return path


def _runner(tmp_path, **kwargs):
    return Runner.from_cfg(
        Config.fromfile(_config_file(tmp_path, 'cfg.py', **kwargs)))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A real 2-iteration run: its data, work dir and last checkpoint."""
    tmp = tmp_path_factory.mktemp('trained')
    data = make_seg_folder(tmp / 'data', num_images=2)
    runner = _runner(tmp, data_root=data, work_dir=tmp / 'run')
    runner.train()
    return data, tmp / 'run' / 'iter_2.pth'


def _crafted_resume(source, path, marker=None, **runtime_info):
    """``source`` with a config that runs code when executed and/or
    runtime_info entries changed; still plain data (weights_only loads
    it)."""
    ckpt = torch.load(source, map_location='cpu', weights_only=True)
    if marker is not None:
        ckpt['meta']['config'] = textwrap.dedent(f"""
            import os
            open({str(marker)!r}, 'w').close()
            """)
    ckpt['message_hub']['runtime_info'].update(runtime_info)
    torch.save(ckpt, str(path))
    torch.load(str(path), weights_only=True)  # passes the pickle check
    return str(path)


def test_resume_does_not_execute_the_checkpoints_config(trained, tmp_path):
    data, source = trained
    marker = tmp_path / 'marker'
    evil = _crafted_resume(source, tmp_path / 'evil.pth', marker)
    runner = _runner(
        tmp_path,
        data_root=data,
        work_dir=tmp_path / 'resumed',
        max_iters=3,
        load_from=evil,
        resume=True)
    runner.train()
    assert runner.iter == 3  # resumed from iteration 2
    assert not marker.exists()
    # the text is kept for whoever wants to read it, as data
    loaded = load_from_local(evil)
    assert 'config' not in loaded['meta']
    assert "open(" in loaded['meta']['untrusted_config']


@pytest.mark.slow
def test_train_tool_resume_does_not_execute_the_checkpoints_config(
        trained, tmp_path):
    data, source = trained
    marker = tmp_path / 'marker'
    evil = _crafted_resume(source, tmp_path / 'evil.pth', marker)
    cfg = _config_file(
        tmp_path,
        'tiny.py',
        data_root=data,
        work_dir=tmp_path / 'work',
        max_iters=3)
    out = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), cfg, '--resume', '--cfg-options',
        f'load_from={evil}'
    ],
                         env=_env(),
                         capture_output=True,
                         text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'Iter(train) [3/3]' in out.stdout + out.stderr
    assert not marker.exists()


def test_resume_refuses_a_best_checkpoint_path_to_delete(trained, tmp_path):
    """mmengine deletes runtime_info['best_ckpt'] when a better checkpoint
    is saved: a crafted value made it delete any file."""
    data, source = trained
    victim = tmp_path / 'precious.txt'
    victim.write_text('keep me')
    evil = _crafted_resume(
        source, tmp_path / 'evil.pth', best_ckpt=str(victim), best_score=-1.0)
    runner = _runner(
        tmp_path,
        data_root=data,
        work_dir=tmp_path / 'resumed',
        max_iters=3,
        load_from=evil,
        resume=True)
    with pytest.raises(UnsafeCheckpointError) as info:
        runner.train()
    assert "runtime_info['best_ckpt']" in str(info.value)
    assert str(victim) in str(info.value) and evil in str(info.value)
    assert victim.read_text() == 'keep me'


@pytest.mark.parametrize('key,value', [
    ('keep_ckpt_ids', ['/../../../etc/passwd']),
    ('keep_ckpt_ids', 'iter_1'),
    ('best_ckpt', 42),
    ('best_ckpt_mIoU', '/home/someone/.ssh'),
    ('last_ckpt', ['x']),
])
def test_loaded_runtime_info_entries_are_checked(trained, tmp_path, key,
                                                 value):
    _, source = trained
    evil = _crafted_resume(source, tmp_path / 'evil.pth', **{key: value})
    with pytest.raises(UnsafeCheckpointError) as info:
        load_from_local(evil)
    assert f"message_hub.runtime_info['{key}']={value!r}" in str(info.value)


def test_require_inside(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (tmp_path / 'outside.pth').write_text('x')
    assert require_inside(str(work / 'best.pth'), str(work), 'f') == \
        osp.realpath(work / 'best.pth')
    for path in [tmp_path / 'outside.pth', work / '..' / 'outside.pth', work]:
        with pytest.raises(UnsafeCheckpointError, match='is not inside'):
            require_inside(str(path), str(work), "runtime_info['best_ckpt']")
    os.symlink(tmp_path / 'outside.pth', work / 'link.pth')
    with pytest.raises(UnsafeCheckpointError, match="best_ckpt.*link.pth"):
        require_inside(
            str(work / 'link.pth'), str(work), "runtime_info['best_ckpt']")


# trust by content


def _pickled(path, obj):
    torch.save({'state_dict': {}, 'meta': obj}, str(path))
    return str(path)


def test_trust_is_given_to_a_content_not_to_a_path(tmp_path):
    benign = _pickled(tmp_path / 'ckpt.pth', fractions.Fraction(1, 3))
    with pytest.raises(UnsafeCheckpointError) as info:
        load_from_local(benign)
    digest = sha256_of_file(benign)
    assert f'--trust-checkpoint {digest}' in str(info.value)

    trust_checkpoint(digest)
    with pytest.warns(UserWarning, match=digest):
        assert load_from_local(benign)['meta'] == fractions.Fraction(1, 3)
    # nothing handed to child processes
    assert not [k for k, v in os.environ.items() if digest in v or benign in v]

    # another file put at the trusted path is not trusted
    marker = tmp_path / 'marker'
    _pickled(tmp_path / 'ckpt.pth', _Payload(marker))
    with pytest.raises(UnsafeCheckpointError):
        load_from_local(benign)
    assert not marker.exists()

    with pytest.raises(ValueError, match='not to a path'):
        trust_checkpoint(benign)


@pytest.mark.parametrize('tool', [
    'tools/test.py CFG CKPT', 'tools/train.py CFG',
    'tools/infer.py CFG CKPT img.png --out-dir out',
    'tools/deployment/export_onnx.py CFG CKPT out.onnx',
    'tools/model_converters/convert_hf.py to-hf CFG CKPT out',
    'tools/model_converters/upgrade_checkpoint.py CKPT OUT'
])
def test_every_tool_takes_a_sha256_not_a_path(tool):
    argv = tool.split()
    out = subprocess.run([
        sys.executable,
        osp.join(ROOT, argv[0]), *argv[1:], '--trust-checkpoint', 'evil.pth'
    ],
                         env=_env(),
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode == 2, out.stderr
    assert "--trust-checkpoint: expected the SHA-256" in out.stderr
    assert "got 'evil.pth'" in out.stderr


def test_http_checkpoints_are_refused_without_download():
    from mmengine.runner.checkpoint import CheckpointLoader

    from upernet_mm.checkpoint_loaders import install_checkpoint_loaders
    install_checkpoint_loaders()
    url = 'http://example.invalid/upernet.pth'
    with pytest.raises(UnsafeCheckpointError, match=f'download .*{url}'):
        CheckpointLoader.load_checkpoint(url)


# the safe loaders are active whenever upernet_mm is used (fresh interpreter)

SCRIPTS = {
    'mmseg init_model with our config':
    """
        from mmseg.apis import init_model
        init_model(CONFIG, CKPT, device='cpu')
        """,
    'upernet_mm. prefix in mmseg scope':
    """
        from mmengine.config import Config
        from mmseg.apis import init_model
        cfg = Config.fromfile(CONFIG)
        cfg.default_scope = 'mmseg'
        cfg.model.type = 'EncoderDecoder'
        cfg.model.decode_head.type = 'upernet_mm.UPerHead'
        init_model(cfg, CKPT, device='cpu')
        """,
    'register_all_modules':
    """
        from upernet_mm.utils import register_all_modules
        from mmengine.runner import CheckpointLoader
        register_all_modules()
        CheckpointLoader.load_checkpoint(CKPT)
        """,
    'plain mmengine Runner':
    """
        from mmengine.config import Config
        from mmengine.runner import Runner
        cfg = Config.fromfile(CONFIG)
        cfg.load_from = CKPT
        cfg.work_dir = WORK
        Runner.from_cfg(cfg).load_or_resume()
        """,
}


@pytest.mark.slow
@pytest.mark.parametrize('entry', list(SCRIPTS))
def test_safe_loader_active_in_fresh_interpreter(tmp_path, entry):
    marker = tmp_path / 'marker'
    evil = _pickled(tmp_path / 'evil.pth', _Payload(marker))
    data = make_seg_folder(tmp_path / 'data', num_images=1)
    config = _config_file(
        tmp_path, 'tiny.py', data_root=data, work_dir=tmp_path / 'work')
    script = textwrap.dedent(SCRIPTS[entry]).replace(
        'CONFIG',
        repr(config)).replace('CKPT',
                              repr(evil)).replace('WORK',
                                                  repr(str(tmp_path / 'work')))
    # a user environment that makes torch.load unpickle fully by default
    out = subprocess.run([sys.executable, '-c', script],
                         cwd=str(tmp_path),
                         env=_env(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1'),
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert not marker.exists(), entry
    assert out.returncode != 0
    assert 'UnsafeCheckpointError: Refusing to load checkpoint' in \
        out.stderr, out.stderr[-3000:]
