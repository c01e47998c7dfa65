"""A checkpoint crafted to run code when unpickled is refused by every
loading path of upernet_mm, and the code does not run; every torch.load in
the package and the tools uses weights_only=True."""
import ast
import builtins
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import get_external_models
from mmengine.runner.checkpoint import \
    load_from_local as mmengine_load_from_local

from helpers import ROOT, TOOLS
from helpers import tool_env as _env
from helpers import write_config as _write_config
from upernet_mm.safe_io import UnsafeCheckpointError, load_from_local


class _Payload:
    """Unpickling this creates ``marker`` (any code could run instead)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.exec, (f'open({self.marker!r}, "w").close()', )


def _crafted(path, marker):
    state = {'conv.weight': torch.zeros(2, 2)}
    torch.save({'state_dict': state, 'meta': _Payload(marker)}, str(path))
    return str(path)


def test_crafted_checkpoint_really_runs_code_when_unpickled(tmp_path):
    # the file is a real threat: a full unpickle creates the marker
    marker = tmp_path / 'proof'
    torch.load(_crafted(tmp_path / 'evil.pth', marker), weights_only=False)
    assert marker.exists()


def test_crafted_checkpoint_refused_by_loaders(tmp_path, monkeypatch):
    from upernet_mm.checkpoint_loaders import install_checkpoint_loaders
    from upernet_mm.converters.hf_files import read_weights
    install_checkpoint_loaders()
    marker = tmp_path / 'marker'
    evil = _crafted(tmp_path / 'evil.pth', marker)
    hf_dir = tmp_path / 'hf'
    hf_dir.mkdir()
    _crafted(hf_dir / 'pytorch_model.bin', marker)

    # remote schemes: a download already in torch's cache is not fetched
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    cache = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    _crafted(cache / 'evil.pth', marker)
    url = get_external_models()['resnet50_v1c']
    _crafted(cache / osp.basename(url), marker)

    loaders = {
        'load_from_local':
        lambda: load_from_local(evil),
        # what load_from, resume and init_cfg=Pretrained go through
        'mmengine CheckpointLoader':
        lambda: CheckpointLoader.load_checkpoint(evil, map_location='cpu'),
        'hf pytorch_model.bin':
        lambda: read_weights(str(hf_dir)),
        'https://':
        lambda: CheckpointLoader.load_checkpoint(
            'https://example.com/models/evil.pth'),
        'open-mmlab://':
        lambda: CheckpointLoader.load_checkpoint('open-mmlab://resnet50_v1c'),
    }
    for name, load in loaders.items():
        with pytest.raises(UnsafeCheckpointError) as info:
            load()
        msg = str(info.value)
        assert 'Refusing to load checkpoint' in msg, name
        assert 'Unsupported global: GLOBAL exec' in msg, (name, msg)
        assert '--trust-checkpoint' in msg, name
    assert not marker.exists()
    assert 'TORCH_FORCE_WEIGHTS_ONLY_LOAD' not in os.environ
    # plain weights still load through the wrapped remote loader
    torch.save({'w': torch.ones(2)}, str(cache / 'good.pth'))
    good = CheckpointLoader.load_checkpoint('https://example.com/good.pth')
    assert torch.equal(good['w'], torch.ones(2))


def test_crafted_checkpoint_refused_by_backbone_pretrained_init(tmp_path):
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import CheckpointLoader

    from upernet_mm.safe_io.checkpoint_loading import SAFE_SCHEMES

    # mmengine's own loaders until our scope is used
    CheckpointLoader.register_scheme('', mmengine_load_from_local, force=True)
    from upernet_mm.registry import MODELS
    init_default_scope('upernet_mm')
    marker = tmp_path / 'marker'
    backbone = MODELS.build(
        dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            init_cfg=dict(
                type='Pretrained',
                checkpoint=_crafted(tmp_path / 'evil.pth', marker))))
    assert CheckpointLoader._schemes[''] is SAFE_SCHEMES[0][1]
    with pytest.raises(UnsafeCheckpointError):
        backbone.init_weights()
    assert not marker.exists()


@pytest.mark.slow
def test_test_tool_refuses_crafted_checkpoint(tmp_path):
    from helpers import make_seg_folder
    root = make_seg_folder(tmp_path / 'data', num_images=1)
    make_seg_folder(root, num_images=1, split='validation')
    cfg = _write_config(tmp_path, 'tiny.py', data_root=root)
    marker = tmp_path / 'marker'
    evil = _crafted(tmp_path / 'evil.pth', marker)
    out = subprocess.run([
        sys.executable,
        osp.join(TOOLS, 'test.py'), cfg, evil, '--work-dir',
        str(tmp_path / 'work')
    ],
                         env=_env(),
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode != 0
    assert f'Refusing to load checkpoint {evil}' in out.stderr
    assert not marker.exists()


def _torch_load_calls(path):
    """(line, function, call, weights_only value) of each load call."""
    tree = ast.parse(open(path).read(), path)
    parents = {
        child: node
        for node in ast.walk(tree)
        for child in ast.iter_child_nodes(node)
    }
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        call = ast.unparse(node.func)
        if call not in ('torch.load', 'load', 'pickle.load', 'pickle.loads'):
            continue
        scope = node
        while scope in parents and not isinstance(scope, ast.FunctionDef):
            scope = parents[scope]
        name = getattr(scope, 'name', '<module>')
        kw = {k.arg: ast.unparse(k.value) for k in node.keywords}
        calls.append((node.lineno, name, call, kw.get('weights_only')))
    return calls


def test_every_torch_load_is_weights_only():
    import glob
    files = glob.glob(
        osp.join(ROOT, 'upernet_mm', '**', '*.py'),
        recursive=True) + glob.glob(
            osp.join(TOOLS, '**', '*.py'), recursive=True)
    # the only full unpickling: a file the user trusted explicitly
    allowed = {('checkpoint_loading.py', 'load_from_local', 'False')}
    files += glob.glob(osp.join(TOOLS, '*', '*.py'))
    seen, bad = 0, []
    for path in files:
        for line, func, call, weights_only in _torch_load_calls(path):
            if call == 'load' and weights_only is None:
                continue  # json.load and other loads
            seen += 1
            key = (osp.basename(path), func, weights_only)
            if weights_only != 'True' and key not in allowed:
                bad.append(f'{osp.relpath(path, ROOT)}:{line} {call} '
                           f'weights_only={weights_only}')
    assert not bad, bad
    assert seen >= 3  # the scan finds the known calls
