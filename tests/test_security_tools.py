"""Smaller paths from outside: a SLURM node list that reached a shell, and
tools/model_converters/upgrade_checkpoint.py writing through a fixed
``DST.tmp`` (a planted symlink made it overwrite another file)."""
import os
import stat

import pytest
import torch

from helpers import load_tool
from upernet_mm.engine import cpu_distributed


def test_slurm_nodelist_never_reaches_a_shell(tmp_path, monkeypatch):
    marker = tmp_path / 'marker'
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    scontrol = bin_dir / 'scontrol'
    # a stand-in for scontrol: prints one host per argument word
    scontrol.write_text('#!/bin/sh\necho node1\necho node2\n')
    scontrol.chmod(scontrol.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv('PATH', f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')
    # every variable the launcher code sets: setenv first so that monkeypatch
    # restores the original state afterwards (a leaked RANK/WORLD_SIZE or
    # MASTER_ADDR=node1 made later distributed tests wait for a host 'node1')
    for key in ('MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE',
                'LOCAL_RANK'):
        monkeypatch.setenv(key, '')
        monkeypatch.delenv(key)
    monkeypatch.setenv('SLURM_PROCID', '0')
    monkeypatch.setenv('SLURM_NTASKS', '2')
    monkeypatch.setenv('SLURM_NODELIST', f'node[1-2]; touch {marker}')
    cpu_distributed._env_from_launcher('slurm')
    assert os.environ['MASTER_ADDR'] == 'node1'
    assert not marker.exists()

    monkeypatch.delenv('MASTER_ADDR')
    monkeypatch.setenv('PATH', str(tmp_path / 'empty'))
    with pytest.raises(RuntimeError, match='SLURM_NODELIST=.*set MASTER_ADDR'):
        cpu_distributed._env_from_launcher('slurm')
    assert not marker.exists()


def _upgrade_tool():
    return load_tool('model_converters/upgrade_checkpoint.py')


def test_upgrade_checkpoint_writes_atomically(tmp_path, monkeypatch):
    import numpy as np

    from upernet_mm.safe_io import atomic, sha256_of_file
    src = tmp_path / 'plain.pth'
    torch.save(
        {
            'state_dict': {
                'w': torch.ones(2)
            },
            'meta': {
                'arr': np.arange(3)
            }
        }, str(src))
    dst = tmp_path / 'safe.pth'
    # the old tool wrote through DST.tmp: a planted symlink redirected it
    victim = tmp_path / 'victim.txt'
    victim.write_text('keep me')
    os.symlink(victim, str(dst) + '.tmp')
    tool = _upgrade_tool()
    tool.main(
        [str(src),
         str(dst), '--trust-checkpoint',
         sha256_of_file(str(src))])
    assert victim.read_text() == 'keep me'
    loaded = torch.load(str(dst), weights_only=True)
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))

    # a failed write leaves neither a partial DST nor a temporary file
    def fail(f, data):
        f.write(data[:10])
        raise OSError('disk full')

    monkeypatch.setattr(atomic, '_write_synced', fail)
    dst2 = tmp_path / 'out' / 'safe2.pth'
    with pytest.raises(OSError, match='disk full'):
        tool.main([
            str(src),
            str(dst2), '--trust-checkpoint',
            sha256_of_file(str(src))
        ])
    assert os.listdir(tmp_path / 'out') == []
