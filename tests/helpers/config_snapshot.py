"""Digests of the resolved configs, so that a refactoring of configs (more
inheritance, fewer restated lines) can be checked to change nothing the
Runner or the tools read.

``tests/fixtures/resolved_configs.json`` holds, per config (bases too),
the SHA-256 of the canonical JSON of the keys of :data:`RUN_KEYS`;
``tests/test_configs.py`` compares. After a deliberate change of a config,
see what it resolves to and write the digests again::

    cd tests && python -m helpers.config_snapshot configs/upernet_convnext.py
    cd tests && python -m helpers.config_snapshot --write
"""
import argparse
import glob
import hashlib
import json
import os.path as osp

from mmengine.config import Config

from helpers import ROOT

FIXTURE = osp.join(ROOT, 'tests', 'fixtures', 'resolved_configs.json')
# What mmengine's Runner.from_cfg and our tools read from a config; the
# other top-level names are a config's own variables (img_size, lr, ...).
RUN_KEYS = ('model', 'data_preprocessor', 'work_dir', 'train_dataloader',
            'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg',
            'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
            'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks',
            'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor',
            'log_level', 'visualizer', 'default_scope', 'randomness',
            'experiment_name', 'custom_imports', 'tta_model', 'tta_pipeline',
            'runner_type', 'ablation_seeds')


def config_paths():
    """Every config file under configs/, relative to the repository."""
    return sorted(
        osp.relpath(path, ROOT) for path in glob.glob(
            osp.join(ROOT, 'configs', '**', '*.py'), recursive=True))


def resolved(path) -> str:
    """The canonical JSON of the run keys of a resolved config."""
    cfg = Config.fromfile(osp.join(ROOT, path)).to_dict()
    run = {key: cfg[key] for key in RUN_KEYS if key in cfg}
    return json.dumps(run, sort_keys=True, indent=1, default=repr)


def digests(paths) -> dict:
    return {
        path: hashlib.sha256(resolved(path).encode()).hexdigest()
        for path in paths
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='*', help='configs to print')
    parser.add_argument(
        '--write', action='store_true', help=f'write {FIXTURE}')
    args = parser.parse_args(argv)
    if args.write:
        with open(FIXTURE, 'w') as f:
            json.dump(digests(config_paths()), f, indent=1, sort_keys=True)
            f.write('\n')
    for path in args.configs:
        print(resolved(osp.relpath(osp.abspath(path), ROOT)))


if __name__ == '__main__':
    main()
