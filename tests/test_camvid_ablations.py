"""The children of the CamVid recipe for the paper's Table 2 (issue 21,
docs/ablations.md, "Table 2 on CamVid"): each changes only what its row
names, its model predicts at the row's stride, and the two studies the page
shows (the noise study, then the rows) plan the intended runs, share the
parent's runs and keep their records where git keeps them."""
import ast
import glob
import os.path as osp
import re
import shlex
import subprocess

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from helpers import ROOT, load_tool
from upernet_mm.ablation.runner import expand_configs, load_study
from upernet_mm.ablation.study import (config_fingerprint, entry_parents,
                                       plan_runs, study_entries, study_seeds)
from upernet_mm.registry import MODELS

ABLATIONS = osp.join('configs', 'camvid', 'ablations')
HEAD = 'model.decode_head.'
# prefix: (prefix of its _base_, None for the recipe; the resolved keys it
# changes; the stride it predicts at)
ROWS = {
    'upernet-nofusion': (None, {HEAD + 'fusion'}, 4),
    'upernet-fpn': ('upernet-nofusion', {HEAD + 'pool_scales'}, 4),
    'upernet-fpn8': ('upernet-fpn', {HEAD + 'in_index',
                                     HEAD + 'in_channels'}, 8),
    'upernet-ppm': (None, {HEAD + 'in_index', HEAD + 'in_channels'}, 32),
}
NOISE_SEEDS = 3


def _own_base(rel):
    with open(osp.join(ROOT, rel)) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            (base, ) = ast.literal_eval(node.value)
            return osp.normpath(osp.join(osp.dirname(rel), base))
    raise AssertionError(f'{rel} has no _base_')


# the CamVid recipe (the _base_ of the nofusion row); the rows are named
# after it, so that renaming it means renaming them
(_NOFUSION, ) = glob.glob(osp.join(ROOT, ABLATIONS, 'upernet-nofusion_*.py'))
PARENT = _own_base(osp.relpath(_NOFUSION, ROOT))
SUFFIX = osp.basename(PARENT)[len('upernet'):]


def _path(prefix):
    if prefix is None:
        return PARENT
    return osp.join(ABLATIONS, prefix + SUFFIX)


def _leaves(node, prefix=''):
    """Flatten a config into ``{dotted.path: value}`` (lists are values)."""
    if isinstance(node, dict) and node:
        out = {}
        for key, value in node.items():
            out.update(_leaves(value, f'{prefix}.{key}' if prefix else key))
        return out
    return {prefix: node}


def _resolved(rel):
    return _leaves(Config.fromfile(osp.join(ROOT, rel)).to_dict())


def test_every_child_is_a_row():
    # the parent is the CamVid CPU recipe (a file of configs/camvid)
    assert osp.dirname(PARENT) == osp.dirname(ABLATIONS)
    assert osp.isfile(osp.join(ROOT, PARENT))
    assert 'convnext-atto' in PARENT and 'camvid-256x256' in PARENT
    found = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, ABLATIONS, '*.py')))
    assert found == sorted(_path(p) for p in ROWS)


@pytest.mark.parametrize('prefix', sorted(ROWS))
def test_child_changes_only_its_row_keys(prefix):
    base_prefix, keys, _ = ROWS[prefix]
    path = _path(prefix)
    assert _own_base(path) == _path(base_prefix)
    base, child = _resolved(_path(base_prefix)), _resolved(path)
    changed = {
        k
        for k in base.keys() | child.keys()
        if base.get(k, '<absent>') != child.get(k, '<absent>')
    }
    assert changed == keys, (prefix, sorted(changed))
    with open(osp.join(ROOT, path)) as f:
        code = [
            line for line in f.read().splitlines()
            if line.strip() and not line.lstrip().startswith('#')
        ]
    assert len(code) <= 3, f'{prefix}: a row is a few lines over its base'
    head = Config.fromfile(osp.join(ROOT, path)).model.decode_head
    # pool_scales=() may resolve as a tuple or a list
    expected = {
        'upernet-nofusion':
        dict(fusion=False),
        'upernet-fpn':
        dict(fusion=False, pool_scales=[]),
        'upernet-fpn8':
        dict(
            fusion=False,
            pool_scales=[],
            in_index=[1, 2, 3],
            in_channels=[80, 160, 320]),
        'upernet-ppm':
        dict(in_index=[3], in_channels=[320]),
    }[prefix]
    got = {
        k: list(v) if isinstance(v, (list, tuple)) else v
        for k, v in head.items() if k in expected
    }
    assert got == expected


def _model(rel):
    cfg = Config.fromfile(osp.join(ROOT, rel))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    model.init_weights()
    return cfg, model.eval()


@pytest.mark.parametrize('prefix', [None] + sorted(ROWS))
def test_model_predicts_at_the_rows_stride(prefix):
    stride = ROWS[prefix][2] if prefix else 4
    cfg, model = _model(_path(prefix))
    head = model.decode_head
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 128, 96), mode='tensor')
    assert logits.shape == (1, 11, 128 // stride, 96 // stride)
    assert torch.isfinite(logits).all()
    channels = cfg.model.decode_head.channels
    levels = len(cfg.model.decode_head.in_index)
    fused = getattr(head, 'fusion', True)
    # what the row leaves out is not in the model
    assert (head.psp_modules is None) == (
        prefix in ('upernet-fpn', 'upernet-fpn8'))
    assert len(head.lateral_convs) == levels - 1
    assert head.fpn_bottleneck.conv.in_channels == (
        levels * channels if fused else channels)


# ----------------------------------------------- the studies of the page


def _page_commands():
    """The ``tools/ablate.py`` commands of the page's "Table 2 on CamVid"
    section (continuation lines joined), and its ``N=`` assignment."""
    with open(osp.join(ROOT, 'docs', 'ablations.md')) as f:
        text = f.read()
    section = text.split('## Table 2 on CamVid', 1)[1].split('\n## ', 1)[0]
    lines = section.replace('\\\n', ' ').splitlines()
    commands = [
        shlex.split(line) for line in lines
        if line.strip().startswith('python tools/ablate.py')
    ]
    lengths = [line for line in lines if re.match(r'^N=\d+', line.strip())]
    return commands, lengths


def _study(argv, n=None):
    """Parsed arguments, entries and planned runs of a page command."""
    tool = load_tool('ablate.py')
    argv = [n if a == '$N' else a for a in argv]
    assert argv[:2] == ['python', 'tools/ablate.py']
    args = tool.parse_args(argv[2:])
    configs = expand_configs(args.configs)
    entries = study_entries(configs, args.max_iters)
    seeds = {e.name: study_seeds(args.seeds, {}) for e in entries}
    runs = plan_runs(entries, seeds, args.work_dir)
    return args, entries, runs


def test_page_studies_plan_the_intended_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    commands, lengths = _page_commands()
    assert len(commands) == 2, 'the noise study and the rows'
    noise, rows = commands
    # the noise study: the recipe alone, 3 seeds, at 2-3 lengths
    args, entries, runs = _study(noise)
    assert [e.config for e in entries] == [PARENT] * len(args.max_iters)
    assert 2 <= len(args.max_iters) <= 3
    assert args.max_iters == sorted(args.max_iters)
    assert args.seeds == NOISE_SEEDS and len(runs) == 3 * len(args.max_iters)
    assert args.work_dir == osp.join('results', 'camvid_ablation')
    assert not args.cfg_options
    # the rows at one of those lengths ($N), every child and the recipe
    assert len(lengths) == 1
    for n in map(str, args.max_iters):
        row_args, row_entries, row_runs = _study(rows, n)
        assert row_args.max_iters == [int(n)]
        assert sorted(e.config
                      for e in row_entries) == sorted([PARENT] +
                                                      [_path(p) for p in ROWS])
        assert row_args.seeds >= 3 and len(row_runs) == 5 * row_args.seeds
        assert row_args.work_dir == args.work_dir
        assert row_args.table != args.table
        assert row_args.cfg_options == args.cfg_options
        # the parent's runs at that length are the noise study's
        shared = {r.work_dir for r in row_runs} & {r.work_dir for r in runs}
        assert len(shared) == min(row_args.seeds, args.seeds)
        # each row's parent is its config's _base_ at the same length
        config_of = {e.name: e.config for e in row_entries}
        parents = {
            config_of[name]: config_of.get(parent)
            for name, parent in entry_parents(row_entries).items()
        }
        assert parents == {
            PARENT: None,
            _path('upernet-nofusion'): PARENT,
            _path('upernet-fpn'): _path('upernet-nofusion'),
            _path('upernet-fpn8'): _path('upernet-fpn'),
            _path('upernet-ppm'): PARENT,
        }


def test_shared_parent_runs_have_one_fingerprint(monkeypatch):
    """The rows study reuses the noise study's parent runs only if both
    resolve the parent at that length to the same config."""
    monkeypatch.chdir(ROOT)
    (noise, rows), _ = _page_commands()
    n = str(_study(noise)[0].max_iters[-1])
    prints = []
    for argv, length in ((noise, None), (rows, n)):
        args, entries, _ = _study(argv, length)
        (entry, ) = [
            e for e in entries if e.config == PARENT and e.max_iters == int(n)
        ]
        info = load_study([entry], args.seeds, args.cfg_options)[entry.name]
        assert info['error'] is None
        prints.append(
            config_fingerprint(dict(config=info['resolved'], seed=0)))
    assert prints[0] == prints[1]


def test_records_and_tables_are_kept_by_git_checkpoints_are_not():
    folder = osp.join('results', 'camvid_ablation')
    kept = [
        'noise.md', 'rows.json', 'NAME-1500iter/seed0/ablation_run.json',
        'NAME-1500iter/seed0/20261202_000000/20261202_000000.log'
    ]
    ignored = [
        'NAME-1500iter/seed0/iter_1500.pth',
        'NAME-1500iter/seed0/last_checkpoint',
        'NAME-1500iter/seed0/20261202_000000/vis_data/scalars.json',
        'NAME-1500iter/seed0/ablation_run.json.tmp'
    ]
    try:
        out = subprocess.run(['git', 'check-ignore', '--no-index', '--stdin'],
                             input='\n'.join(
                                 osp.join(folder, p) for p in kept + ignored),
                             capture_output=True,
                             text=True,
                             cwd=ROOT)
    except FileNotFoundError:
        pytest.skip('git is not installed')
    if out.returncode not in (0, 1):
        pytest.skip(f'not a git checkout: {out.stderr.strip()}')
    assert sorted(out.stdout.split()) == sorted(
        osp.join(folder, p) for p in ignored)
