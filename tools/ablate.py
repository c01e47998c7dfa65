"""Train several configs one after another and tabulate the results.

Each config is trained by tools/train.py in its own process and work dir;
the table lists the last validation mIoU/mAcc/aAcc, the model's parameters
and the wall time of the training run.

Example:
    python tools/ablate.py 'configs/ablations/*.py'
    python tools/ablate.py configs/ablations/a.py configs/ablations/b.py \
        --work-dir work_dirs/ablations --cfg-options train_cfg.max_iters=200
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

TOOLS = osp.dirname(osp.abspath(__file__))
METRICS = ('mIoU', 'mAcc', 'aAcc')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'configs', nargs='+', help='config files or glob patterns')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/ablations',
        help='root of the per-config work dirs and of the result tables')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='passed to tools/train.py for every config')
    parser.add_argument(
        '--skip-existing',
        action='store_true',
        help='do not retrain a config whose work dir already has results')
    return parser.parse_args(argv)


def expand(patterns):
    """Config paths from file names and glob patterns, in order, once."""
    paths = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) \
            else [pattern]
        if not matches:
            raise SystemExit(f'error: no config matches {pattern!r}')
        for path in matches:
            if not osp.isfile(path):
                raise SystemExit(f'error: config {path} does not exist')
            if path not in paths:
                paths.append(path)
    return paths


def last_val_metrics(work_dir):
    """The last validation record of the newest run in ``work_dir``."""
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    if not runs:
        return None
    metrics = None
    with open(runs[-1]) as f:
        for line in f:
            record = json.loads(line)
            if 'mIoU' in record:
                metrics = {k: record.get(k) for k in METRICS}
                metrics['step'] = record.get('step')
    return metrics


def count_params(config):
    """Parameters (in millions) of the config's model."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from upernet_mm.registry import MODELS
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model)
    return sum(p.numel() for p in model.parameters()) / 1e6


def to_markdown(rows):
    head = '| config | mIoU | mAcc | aAcc | params (M) | train time (s) |'
    lines = [head, '|---|---:|---:|---:|---:|---:|']
    for row in rows:
        cells = [row['config']]
        cells += [
            '—' if row.get(k) is None else f'{row[k]:.2f}' for k in METRICS
        ]
        cells.append(f"{row['params_m']:.2f}")
        cells.append('—' if row['time_s'] is None else f"{row['time_s']:.0f}")
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    configs = expand(args.configs)
    os.makedirs(args.work_dir, exist_ok=True)
    rows, failed = [], []
    for config in configs:
        name = osp.splitext(osp.basename(config))[0]
        work_dir = osp.join(args.work_dir, name)
        elapsed = None
        if not (args.skip_existing and last_val_metrics(work_dir)):
            cmd = [sys.executable, osp.join(TOOLS, 'train.py'), config,
                   '--work-dir', work_dir]
            if args.cfg_options:
                cmd += ['--cfg-options', *args.cfg_options]
            print(f'[ablate] training {config}', flush=True)
            start = time.perf_counter()
            code = subprocess.call(cmd)
            elapsed = time.perf_counter() - start
            if code != 0:
                print(f'[ablate] {config} failed with exit code {code}',
                      flush=True)
                failed.append(config)
        metrics = last_val_metrics(work_dir) or {}
        rows.append(
            dict(config=name, params_m=count_params(config), time_s=elapsed,
                 **{k: metrics.get(k) for k in METRICS}))
    table = to_markdown(rows)
    print(table)
    with open(osp.join(args.work_dir, 'ablation_results.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(args.work_dir, 'ablation_results.json'), 'w') as f:
        json.dump(rows, f, indent=2)
    if failed:
        raise SystemExit(f'error: {len(failed)} config(s) failed: {failed}')


if __name__ == '__main__':
    main()
