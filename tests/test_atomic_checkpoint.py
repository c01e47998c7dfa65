"""A crash in the middle of a checkpoint save never leaves a truncated file
that --resume would pick up (ResumableCheckpointHook)."""
import itertools
import os

import pytest
import torch
from mmengine.fileio import LocalBackend
from mmengine.runner import Runner

from helpers import runner_kwargs
from upernet_mm.engine.hooks import ResumableCheckpointHook
from upernet_mm.safe_io import atomic as atomic_files

_RUNS = itertools.count()


class _Crash(BaseException):
    """Stands for a kill: ``except Exception`` does not catch it."""


def _kwargs(data, work, checkpoint_type='ResumableCheckpointHook', **extra):
    kwargs = runner_kwargs(
        data,
        work,
        max_iters=6,
        experiment_name=f'exp_{next(_RUNS)}_{work.name}',
        **extra)
    kwargs['default_hooks']['checkpoint'] = dict(
        type=checkpoint_type, by_epoch=False, interval=2, max_keep_ckpts=1)
    return kwargs


def _crash_on(kind, count=2):
    """A ``_write_synced`` that writes half of the ``count``-th checkpoint
    (``kind='checkpoint'``) or ``last_checkpoint`` content and crashes."""
    real = atomic_files._write_synced
    seen = []

    def write(f, data):
        is_ckpt = len(data) > 1000
        if is_ckpt == (kind == 'checkpoint'):
            seen.append(data)
            if len(seen) == count:
                f.write(data[:len(data) // 2])
                f.flush()
                raise _Crash
        real(f, data)

    return write


def _final_weights(path):
    return torch.load(path, weights_only=True)['state_dict']


@pytest.fixture
def straight(seg_folder, tmp_path):
    work = tmp_path / 'straight'
    Runner(**_kwargs(seg_folder, work)).train()
    return _final_weights(work / 'iter_6.pth')


@pytest.mark.parametrize('kind', ['checkpoint', 'last_checkpoint'])
def test_crash_mid_save_then_resume(seg_folder, tmp_path, monkeypatch,
                                    straight, kind):
    work = tmp_path / 'work'
    runner = Runner(**_kwargs(seg_folder, work))
    assert any(type(h) is ResumableCheckpointHook for h in runner.hooks)
    with monkeypatch.context() as patch:
        patch.setattr(atomic_files, '_write_synced', _crash_on(kind))
        with pytest.raises(_Crash):
            runner.train()

    # what --resume finds: the previous, complete checkpoint
    latest = (work / 'last_checkpoint').read_text()
    assert latest == str(work / 'iter_2.pth')
    assert torch.load(latest, weights_only=True)['meta']['iter'] == 2
    names = sorted(os.listdir(work))
    if kind == 'checkpoint':  # the new file never appeared
        assert 'iter_4.pth' not in names
    else:  # complete, but not yet named by last_checkpoint
        assert torch.load(
            work / 'iter_4.pth', weights_only=True)['meta']['iter'] == 4
    assert not [n for n in names if n.endswith(atomic_files.TMP_SUFFIX)]

    # a SIGKILL would have left the temporary file; resume removes it
    stale = work / f'.iter_4.pth.999-0000{atomic_files.TMP_SUFFIX}'
    stale.write_bytes(b'half a checkpoint')
    resumed = Runner(**_kwargs(seg_folder, work, resume=True))
    resumed.train()
    assert resumed.iter == 6
    assert not stale.exists()
    assert sorted(n for n in os.listdir(work) if n.endswith('.pth')) == \
        ['iter_6.pth']  # max_keep_ckpts=1
    final = _final_weights(work / 'iter_6.pth')
    for key, value in straight.items():
        torch.testing.assert_close(final[key], value, rtol=0, atol=1e-6)


def test_plain_mmengine_hook_loses_the_run_in_the_same_crash(
        seg_folder, tmp_path, monkeypatch):
    """What the test above guards against: mmengine's CheckpointHook writes
    in place and deletes the old checkpoint first."""
    work = tmp_path / 'plain'
    runner = Runner(**_kwargs(seg_folder, work, 'mmengine.CheckpointHook'))
    real, seen = LocalBackend.put, []

    def put(self, obj, filepath):
        seen.append(filepath)
        if len(seen) == 2:
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise _Crash
        real(self, obj, filepath)

    with monkeypatch.context() as patch:
        patch.setattr(LocalBackend, 'put', put)
        with pytest.raises(_Crash):
            runner.train()
    assert not (work / 'iter_2.pth').exists()
    with pytest.raises(Exception):
        torch.load(work / 'iter_4.pth', weights_only=True)  # truncated
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_2.pth')
    with pytest.raises(FileNotFoundError):
        Runner(**_kwargs(
            seg_folder, work, 'mmengine.CheckpointHook', resume=True)).train()


def test_atomic_write_keeps_old_content_on_failure(tmp_path, monkeypatch):
    target = tmp_path / 'file.txt'
    atomic_files.atomic_write(str(target), 'old')
    monkeypatch.setattr(atomic_files, '_write_synced',
                        _crash_on('last_checkpoint', count=1))
    with pytest.raises(_Crash):
        atomic_files.atomic_write(str(target), 'new')
    assert target.read_text() == 'old'
    assert os.listdir(tmp_path) == ['file.txt']
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
