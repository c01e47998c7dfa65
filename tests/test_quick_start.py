"""The quick-start config trains end to end, and the ablation configs each
change one thing of their parent."""
import ast
import glob
import json
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from helpers import ROOT

QUICK_START = osp.join(ROOT, 'configs', 'upernet_convnext.py')
# the ablations inherit the quick start in float32
QUICK_START_FP32 = osp.join(ROOT, 'configs', 'upernet_convnext_fp32.py')
ABLATIONS = osp.join(ROOT, 'configs', 'ablations')
PARENT = osp.join(
    ABLATIONS, 'upernet_convnext-atto_1xb4-100iter_syntheticfar-192x192.py')


@pytest.mark.slow
def test_quick_start_trains_validates_and_writes_outputs(tmp_path):
    data = tmp_path / 'synthetic_scenes'
    work = tmp_path / 'work'
    # the real config, shortened: 6 iterations on a generated copy of the
    # dataset, validation on 8 images, one of them drawn
    options = [
        'train_cfg.max_iters=6',
        'train_cfg.val_interval=6',
        'default_hooks.checkpoint.interval=3',
        'default_hooks.logger.interval=2',
        'default_hooks.visualization.interval=4',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.data_root={data}',
        f'val_dataloader.dataset.data_root={data}',
        'val_dataloader.dataset.indices=8',
    ]
    out = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), QUICK_START, '--work-dir',
        str(work), '--cfg-options', *options
    ],
                         capture_output=True,
                         text=True,
                         timeout=900,
                         cwd=str(tmp_path))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]

    # the dataset was generated on first use where the config pointed
    assert len(glob.glob(str(data / 'images' / 'training' / '*.jpg'))) == 400
    # checkpoints, the newest two kept, and last_checkpoint
    assert (work / 'iter_3.pth').exists() and (work / 'iter_6.pth').exists()
    assert (work /
            'last_checkpoint').read_text().strip().endswith('iter_6.pth')
    # text log and json logs with a validation record
    (run, ) = [p for p in work.iterdir() if p.is_dir()]
    assert (run / f'{run.name}.log').stat().st_size > 0
    records = [
        json.loads(line)
        for line in (run / 'vis_data' / 'scalars.json').read_text().split('\n')
        if line
    ]
    assert any('loss' in r for r in records)
    val = [r for r in records if 'mIoU' in r]
    assert len(val) == 1 and 0 <= val[0]['mIoU'] <= 100
    assert (run / 'vis_data' / f'{run.name}.json').exists()
    # validation predictions drawn over their images: 8 images, every 4th
    drawn = glob.glob(str(run / 'vis_data' / 'vis_image' / '*.png'))
    assert len(drawn) == 2


def _assigned_names(path):
    """Top-level names a config file assigns itself (besides ``_base_``)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names - {'_base_'}


def _leaves(node, prefix=''):
    """Flatten a config into ``{dotted.path: value}``."""
    if isinstance(node, dict):
        if not node:
            return {prefix: {}}
        out = {}
        for key, value in node.items():
            out.update(_leaves(value, f'{prefix}.{key}' if prefix else key))
        return out
    return {prefix: node}


def _ablation_children():
    return sorted(
        p for p in glob.glob(osp.join(ABLATIONS, '*.py')) if p != PARENT)


def _own_base(path):
    """The single ``_base_`` file of an ablation config."""
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            bases = ast.literal_eval(node.value)
            bases = [bases] if isinstance(bases, str) else bases
            assert len(bases) == 1, f'{path}: one _base_'
            return osp.normpath(osp.join(osp.dirname(path), bases[0]))
    raise AssertionError(f'{path} has no _base_')


def test_ablations_each_change_one_thing_of_their_base():
    children = _ablation_children()
    assert len(children) >= 8
    names = {osp.basename(p).split('_')[0] for p in children}
    # the original one-change children and the rows of the paper's Table 2
    assert {
        'upernet-pool1', 'upernet-noppm', 'upernet-noaux', 'upernet-3levels',
        'upernet-nofusion', 'upernet-fpn', 'upernet-ppm'
    } <= names
    for child_path in children:
        name = osp.basename(child_path)
        base = _own_base(child_path)
        assert osp.dirname(base) == ABLATIONS, f'{name} inherits an ablation'
        parent = _leaves(Config.fromfile(base).to_dict())
        child_cfg = Config.fromfile(child_path)
        with open(child_path) as f:
            source = f.read()
        code = [
            line for line in source.splitlines()
            if line.strip() and not line.lstrip().startswith('#')
        ]
        assert len(code) <= 6, f'{name}: an ablation is a few lines'
        child = _leaves(child_cfg.to_dict())
        changed = {
            k
            for k in parent.keys() | child.keys()
            if parent.get(k, '<absent>') != child.get(k, '<absent>')
        }
        assert changed, f'{name} changes nothing'
        # everything that differs lies under what the child file assigns,
        # and under a single model component
        own = _assigned_names(child_path)
        assert own == {'model'}, name
        components = {'.'.join(k.split('.')[:2]) for k in changed}
        assert len(components) == 1, (name, sorted(changed))


def test_ablation_parent_is_the_quick_start_at_the_ablation_scale():
    quick = _leaves(Config.fromfile(QUICK_START_FP32).to_dict())
    cfg = Config.fromfile(PARENT)
    parent = _leaves(cfg.to_dict())
    changed = {
        k
        for k in quick.keys() | parent.keys() if quick.get(k) != parent.get(k)
    }
    data_and_schedule = {
        'max_iters', 'warmup_iters', 'param_scheduler', 'train_cfg',
        'default_hooks', 'train_dataloader', 'val_dataloader',
        'test_dataloader', 'crop_size', 'img_size', 'data_root',
        'generator_cfg', 'train_pipeline', 'test_pipeline', 'ablation_seeds'
    }
    model_changes = {
        'model.data_preprocessor.size', 'model.decode_head.channels',
        'model.auxiliary_head.channels'
    }
    assert changed and all(
        k.split('.')[0] in data_and_schedule or k in model_changes
        for k in changed), changed
    # room for the pyramid pooling: the coarsest level (stride 32) of a
    # crop is at least 6x6, and the scenes carry far context
    crop = cfg.crop_size
    assert min(crop) >= 192 and min(crop) // 32 >= 6
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        gen = loader.dataset.generator_cfg
        assert gen['far_context'] is True and gen['size'] >= max(crop)
        assert loader.dataset.data_root != 'data/synthetic_scenes'
    assert cfg.ablation_seeds == 3
