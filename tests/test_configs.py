"""Every config loads, builds its model without network, and trains a step."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope

from helpers import ROOT, config_snapshot
from upernet_mm.registry import MODELS

CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


def _without_pretrained(node):
    """Drop ``init_cfg`` of type Pretrained and ``pretrained`` URLs."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            node['init_cfg'] = None
        if isinstance(node.get('pretrained'), str):
            node['pretrained'] = None
        for value in node.values():
            _without_pretrained(value)
    elif isinstance(node, list):
        for value in node:
            _without_pretrained(value)


def build_model_from(path):
    cfg = Config.fromfile(path)
    _without_pretrained(cfg.model)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    return cfg, revert_sync_batchnorm(model)


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_builds_and_trains_one_step(path, monkeypatch):
    import mmengine.runner.checkpoint as ckpt

    def no_download(*args, **kwargs):
        raise AssertionError('building a config must not download')

    monkeypatch.setattr(ckpt, 'load_from_http', no_download)
    cfg, model = build_model_from(path)
    assert cfg.default_scope == 'upernet_mm'
    assert type(model.decode_head).__module__.startswith('upernet_mm.')
    model.init_weights()
    model.train()
    x = torch.randn(2, 3, 64, 64)
    out = model(x, mode='tensor')
    # a multi-task model (UnifiedParsingSegmentor) returns logits per task
    logits = out['object'] if isinstance(out, dict) else out
    head = cfg.model.decode_head
    # every backbone here has levels of stride 4, 8, 16, 32; the head
    # predicts at its finest selected level
    size = 64 // (4 * 2**min(head.in_index))
    assert logits.shape == (2, head.num_classes, size, size)
    outputs = out.values() if isinstance(out, dict) else [out]
    sum(o.float().mean() for o in outputs).backward()
    head_grads = [
        p.grad for p in model.decode_head.parameters() if p.requires_grad
    ]
    assert all(g is not None for g in head_grads)
    assert all(torch.isfinite(g).all() for g in head_grads)


def test_resolved_configs_are_unchanged():
    """Configs resolve to what the fixture recorded (the keys the Runner and
    the tools read): inheritance changes how they are written, not what
    they train. After a deliberate change, write the digests again (see
    tests/helpers/config_snapshot.py)."""
    with open(config_snapshot.FIXTURE) as f:
        expected = json.load(f)
    missing = sorted(set(expected) - set(config_snapshot.config_paths()))
    assert not missing, f'configs of the fixture are gone: {missing}'
    changed = [
        path for path, digest in config_snapshot.digests(expected).items()
        if digest != expected[path]
    ]
    assert not changed, (
        f'these configs resolve differently from the fixture: {changed}')
