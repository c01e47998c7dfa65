"""A transformers directory is written by anyone: label names that break out
of a string literal or ask mmengine to substitute an environment variable,
a folder name with a line break, shard names outside the folder. Before the
fix, `to-mm` wrote such strings into a Python config that mmengine then
executed (a marker file appeared) or filled with the variable (the token was
copied into the written config); every entry point that converts a
directory is tested here."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from helpers import ROOT
from helpers.hf import convert_hf_main, save_hf_upernet, tiny_convnext

SECRET_VAR = 'UPERNET_MM_TEST_SECRET'
SECRET = 's3cr3t-t0ken-value'


def _marker_code(marker):
    # no '/' allowed in a folder name: build the path from chr(47)
    parts = ', '.join(repr(p) for p in str(marker).split('/'))
    return f"open(chr(47).join([{parts}]), 'w').close()"


def hostile_labels(marker):
    code = _marker_code(marker)
    return [
        f"'+{code}+'",  # break out of '...'
        f'"+{code}+"',  # break out of "..."
        f"\\'+{code}+\\'",  # escape games
        "'''\n" + code + "\n'''",  # triple quotes, line breaks
        f'{{{{$NOPE:"+{code}+"}}}}',  # env default with a quote
        f'{{{{$NOPE:x\\\'}}}}+{code}+\'',  # the regex eats a quote
        f'{{{{${SECRET_VAR}:none}}}}',  # copy a token into the config
        "{{'$" + SECRET_VAR + ":none'}}",
        '{{ fileDirname }}',  # path substitution
        '{{ fileBasenameNoExtension }}',
        '{{_base_.model}}',  # base variable substitution
        'plain',
    ]


@pytest.fixture(scope='module')
def hostile(tmp_path_factory):
    """A transformers UperNet saved under a folder whose name holds Python
    code after a line break, with hostile label names."""
    tmp = tmp_path_factory.mktemp('hostile')
    marker = tmp / 'marker'
    name = f"hf'\"\n{_marker_code(marker)}\n#{{{{ fileDirname }}}}"
    hf_dir = tmp / name
    labels = hostile_labels(marker)
    save_hf_upernet(
        hf_dir,
        tiny_convnext(),
        num_labels=len(labels),
        id2label=dict(enumerate(labels)))
    return tmp, hf_dir, labels, marker


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv(SECRET_VAR, SECRET)


def _no_secret_in(folder):
    for root, _, files in os.walk(folder):
        for name in files:
            with open(osp.join(root, name), 'rb') as f:
                assert SECRET.encode() not in f.read(), name


@pytest.mark.parametrize('self_contained', [False, True])
def test_to_mm_writes_an_inert_config(hostile, self_contained):
    tmp, hf_dir, labels, marker = hostile
    # fileDirname of the written config holds a quote too
    out = tmp / f"out'{int(self_contained)}"
    argv = ['to-mm', str(hf_dir), str(out)]
    if self_contained:
        argv.append('--self-contained')
    convert_hf_main(argv)
    configs = [f for f in os.listdir(out) if f.endswith('.py')]
    assert len(configs) == 1 and '\n' not in configs[0]
    cfg = Config.fromfile(str(out / configs[0]))
    assert not marker.exists()
    assert list(cfg.metainfo.classes) == labels  # kept exactly
    assert cfg.converted_from == str(hf_dir)
    ckpt = torch.load(
        str(out / configs[0].replace('.py', '.pth')), weights_only=True)
    assert list(ckpt['meta']['dataset_meta']['classes']) == labels
    _no_secret_in(out)
    # the pair still runs: mmseg's init_model and inference
    from upernet_mm.apis import inference_model, init_model
    model = init_model(
        str(out / configs[0]), str(out / configs[0].replace('.py', '.pth')))
    result = inference_model(model, np.zeros((32, 32, 3), np.uint8))
    assert result.pred_sem_seg.shape == (32, 32)
    assert list(model.dataset_meta['classes']) == labels
    assert not marker.exists()


def test_init_model_and_hf_scheme_keep_labels_and_run_nothing(hostile):
    from mmengine.runner.checkpoint import CheckpointLoader

    from upernet_mm.apis import init_model
    from upernet_mm.checkpoint_loaders import install_checkpoint_loaders
    _, hf_dir, labels, marker = hostile
    model = init_model(str(hf_dir))
    assert list(model.dataset_meta['classes']) == labels
    model = init_model(str(hf_dir), 'hf://' + str(hf_dir))
    assert list(model.dataset_meta['classes']) == labels
    install_checkpoint_loaders()
    ckpt = CheckpointLoader.load_checkpoint('hf://' + str(hf_dir))
    assert list(ckpt['meta']['dataset_meta']['classes']) == labels
    assert ckpt['meta']['converted_from'] == str(hf_dir)
    assert not marker.exists()


@pytest.mark.slow
def test_infer_tool_on_a_hostile_directory(hostile, tmp_path):
    import mmcv
    _, hf_dir, labels, marker = hostile
    image = tmp_path / 'img.png'
    mmcv.imwrite(np.full((32, 40, 3), 90, np.uint8), str(image))
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [osp.join(ROOT, 'tests'), ROOT,
         env.get('PYTHONPATH', '')])
    out = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'infer.py'),
        str(hf_dir),
        str(hf_dir),
        str(image), '--out-dir',
        str(tmp_path / 'out'), '--json'
    ],
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((tmp_path / 'out' / 'summary.json').read_text())
    assert summary['classes'] == labels
    assert not marker.exists()
    _no_secret_in(tmp_path / 'out')


def test_inert_config_text_refuses_what_is_not_data():
    from upernet_mm.safe_io.inert_config import (UnsafeConfigTextError,
                                                 inert_config_text,
                                                 literal_assignments)
    with pytest.raises(UnsafeConfigTextError, match='not plain data'):
        literal_assignments("x = __import__('os').system('true')")
    with pytest.raises(UnsafeConfigTextError, match='only `name = literal`'):
        literal_assignments('import os')
    with pytest.raises(UnsafeConfigTextError, match='line break'):
        inert_config_text(dict(a=1), header=['x\nimport os'])
    text = inert_config_text(dict(a=['{{$HOME:x}}', "'"], b=dict(c=-1.5)))
    assert '{{' not in text
    assert literal_assignments(text) == dict(
        a=['{{$HOME:x}}', "'"], b=dict(c=-1.5))


@pytest.mark.parametrize('shard', [
    '../outside.safetensors', '/tmp/outside.safetensors',
    'sub/../../outside.safetensors', 42
])
def test_shard_names_outside_the_folder_are_refused(tmp_path, shard):
    from safetensors.torch import save_file

    from upernet_mm.converters.hf_files import read_weights
    hf_dir = tmp_path / 'hf'
    hf_dir.mkdir()
    outside = tmp_path / 'outside.safetensors'
    save_file({'w': torch.ones(1)}, str(outside))
    # a symlinked shard, as in the Hugging Face cache, is fine
    os.symlink(outside, hf_dir / 'link.safetensors')
    index = hf_dir / 'model.safetensors.index.json'
    index.write_text(json.dumps(dict(weight_map={'w': 'link.safetensors'})))
    assert torch.equal(read_weights(str(hf_dir))['w'], torch.ones(1))

    index.write_text(json.dumps(dict(weight_map={'w': shard})))
    with pytest.raises(ValueError) as info:
        read_weights(str(hf_dir))
    msg = str(info.value)
    assert str(index) in msg and 'weight_map' in msg and repr(shard) in msg
