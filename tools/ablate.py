"""Train several configs with several seeds and tabulate mean ± std.

Each (config, seed) run is tools/train.py in its own process and work dir
(WORK_DIR/CONFIG_NAME/seedS, with ``randomness.seed=S``: the seed sets the
initialisation, the data order and the augmentation). The table has, per
config, every logged validation metric as mean ± sample std over the
finished seeds, the difference to the config's parent (its nearest
``_base_`` ancestor in the study) marked ``≈`` when the two
2-standard-deviation intervals overlap (within the noise), the parameters
and the mean wall time of a run. The json keeps every run's numbers.

Finished runs are reused when the study is run again (an interrupted study
resumes; a run is trained again if its resolved config changed, or with
--rerun); a failed run is reported in the table and the others go on.

Example:
    python tools/ablate.py 'configs/ablations/*.py' --seeds 3
    python tools/ablate.py configs/ablations/a.py configs/ablations/b.py \
        --work-dir work_dirs/ablations --cfg-options train_cfg.max_iters=200
    python tools/ablate.py 'configs/ablations/*.py' --no-train  # table only
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

from mmengine.config import Config, DictAction

from upernet_mm.ablation import (NOISE_SIGMAS, RunSpec, collect_metric_keys,
                                 compare, config_fingerprint, find_parents,
                                 is_reusable, last_val_metrics,
                                 load_run_record, plan_runs, study_seeds,
                                 summarize, to_markdown, write_run_record)
from upernet_mm.ablation.study import config_name

TOOLS = osp.dirname(osp.abspath(__file__))
TRAIN = osp.join(TOOLS, 'train.py')
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'configs', nargs='+', help='config files or glob patterns')
    parser.add_argument(
        '--seeds',
        type=int,
        help='train every config with seeds 0..N-1 (default: the config '
        'field ablation_seeds, else 1)')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/ablations',
        help='root of the per-run work dirs and of the result tables')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='passed to tools/train.py for every run (key=value pairs)')
    parser.add_argument(
        '--rerun',
        action='store_true',
        help='train again runs that already finished (default: reuse them)')
    parser.add_argument(
        '--no-train',
        action='store_true',
        help='train nothing: tabulate the runs that finished')
    parser.add_argument(
        '--threads',
        type=int,
        help='OMP/MKL/OpenBLAS threads of each training process (default: '
        'inherited from the environment)')
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


def parse_cfg_options(options):
    """``key=value`` strings as mmengine's DictAction reads them."""
    if not options:
        return {}
    parser = argparse.ArgumentParser(prog='--cfg-options', add_help=False)
    parser.add_argument('--o', nargs='+', action=DictAction)
    return parser.parse_args(['--o', *options]).o


def count_params(cfg):
    """Parameters (in millions) of the config's model."""
    from mmengine.registry import DefaultScope

    from upernet_mm.registry import MODELS
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model)
    return sum(p.numel() for p in model.parameters()) / 1e6


def train_command(spec: RunSpec, cfg_options):
    """tools/train.py command line of one run (the seed comes last, so it
    wins)."""
    return [
        sys.executable, TRAIN, spec.config, '--work-dir', spec.work_dir,
        '--cfg-options', *cfg_options, f'randomness.seed={spec.seed}'
    ]


def run_training(spec: RunSpec, cfg_options, env):
    """Train one run; returns its exit code."""
    os.makedirs(spec.work_dir, exist_ok=True)
    return subprocess.call(train_command(spec, cfg_options), env=env)


def _child_env(threads):
    env = dict(os.environ)
    if threads is not None:
        for var in THREAD_VARS:
            env[var] = str(threads)
    # tools/train.py imports this copy of upernet_mm
    root = osp.dirname(TOOLS)
    paths = [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
    if root not in paths:
        env['PYTHONPATH'] = os.pathsep.join([root] + paths)
    return env


def load_study(configs, args, overrides):
    """Resolve every config once: seeds, fingerprint base, parameters."""
    info = {}
    for config in configs:
        entry = dict(seeds=[], resolved=None, params_m=None, error=None)
        try:
            cfg = Config.fromfile(config)
            if overrides:
                cfg.merge_from_dict(overrides)
            entry['seeds'] = study_seeds(args.seeds, cfg)
            entry['resolved'] = cfg.to_dict()
            entry['params_m'] = count_params(cfg)
        except Exception as e:  # reported in the table, not fatal
            entry['error'] = f'config error: {type(e).__name__}: {e}'
            if not entry['seeds']:
                entry['seeds'] = list(range(args.seeds or 1))
        info[config] = entry
    return info


def build_rows(configs, info, parents, results):
    """Rows of the table and json (stats and differences computed here)."""
    rows = []
    for config in configs:
        runs = [results[(config, s)] for s in info[config]['seeds']]
        rows.append(
            dict(
                config=config_name(config),
                path=config,
                parent=(config_name(parents[config])
                        if parents[config] else None),
                params_m=info[config]['params_m'],
                error=info[config]['error'],
                runs=runs))
    keys = collect_metric_keys(rows)
    by_name = {row['config']: row for row in rows}
    for row in rows:
        ok = [run for run in row['runs'] if run['status'] == 'ok']
        row['stats'] = {
            key: summarize([(run['metrics'] or {}).get(key) for run in ok])
            for key in keys
        }
        row['stats']['time_s'] = summarize([run['time_s'] for run in ok])
    for row in rows:
        parent = by_name.get(row['parent'])
        row['diff'] = {
            key: compare(row['stats'][key], parent['stats'][key])
            for key in keys
        } if parent else {}
    return rows, keys


def write_tables(work_dir, rows, keys, settings):
    table = to_markdown(rows, keys)
    legend = (f'\n\nmean ± sample std over the finished seeds; Δ: '
              f'difference of means to the parent, ≈ within the noise '
              f'(|Δ| <= {NOISE_SIGMAS:g} x (std + parent std)), ? noise '
              'unknown (fewer than 2 runs); time: wall time of one run.')
    with open(osp.join(work_dir, 'ablation_results.md'), 'w') as f:
        f.write(table + legend + '\n')
    with open(osp.join(work_dir, 'ablation_results.json'), 'w') as f:
        json.dump(
            dict(settings=settings, metric_keys=keys, rows=rows),
            f,
            indent=2)
    return table + legend


def main(argv=None):
    args = parse_args(argv)
    configs = expand(args.configs)
    try:
        overrides = parse_cfg_options(args.cfg_options)
    except SystemExit:
        raise SystemExit('error: --cfg-options takes key=value pairs')
    if 'randomness.seed' in overrides:
        raise SystemExit('error: the study sets randomness.seed per run; '
                         'use --seeds instead of --cfg-options '
                         'randomness.seed')
    if args.seeds is not None and args.seeds < 1:
        raise SystemExit(f'error: --seeds must be an integer >= 1, got '
                         f'{args.seeds}')
    if args.threads is not None and args.threads < 1:
        raise SystemExit('error: --threads must be >= 1')
    try:
        info = load_study(configs, args, overrides)
        specs = plan_runs(configs, {c: info[c]['seeds'] for c in configs},
                          args.work_dir)
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    parents = find_parents(configs)
    os.makedirs(args.work_dir, exist_ok=True)
    env = _child_env(args.threads)
    settings = dict(
        cfg_options=args.cfg_options,
        noise_sigmas=NOISE_SIGMAS,
        threads=args.threads)

    results = {}
    for spec in specs:  # every run's status before training any
        record = load_run_record(spec.work_dir)
        entry = info[spec.config]
        fingerprint = None
        if entry['resolved'] is not None:
            fingerprint = config_fingerprint(
                dict(config=entry['resolved'], seed=spec.seed))
        if (not args.rerun and fingerprint is not None
                and is_reusable(record, fingerprint)):
            results[(spec.config, spec.seed)] = dict(record, reused=True)
        elif args.no_train and record:
            results[(spec.config, spec.seed)] = dict(record, reused=True)
        else:
            results[(spec.config, spec.seed)] = dict(
                seed=spec.seed, status='missing', work_dir=spec.work_dir,
                fingerprint=fingerprint, metrics=None, time_s=None,
                exit_code=None, reused=False)

    todo = [] if args.no_train else [
        spec for spec in specs
        if results[(spec.config, spec.seed)]['status'] != 'ok'
    ]
    reused = sum(r['status'] == 'ok' for r in results.values())
    print(f'[ablate] {len(specs)} runs: {reused} finished and reused, '
          f'{len(todo)} to train', flush=True)
    for number, spec in enumerate(todo, 1):
        result = results[(spec.config, spec.seed)]
        if info[spec.config]['error']:
            result.update(status='failed', exit_code=None)
            continue
        print(f'[ablate] ({number}/{len(todo)}) training {spec.config} '
              f'seed {spec.seed} in {spec.work_dir}', flush=True)
        start = time.perf_counter()
        code = run_training(spec, args.cfg_options, env)
        elapsed = time.perf_counter() - start
        metrics = last_val_metrics(spec.work_dir) if code == 0 else None
        ok = code == 0 and metrics is not None
        if not ok:
            print(f'[ablate] {spec.config} seed {spec.seed} failed (exit '
                  f'code {code}' + ('' if code else ', no validation '
                                    'metrics logged') + ')', flush=True)
        result.update(
            status='ok' if ok else 'failed',
            exit_code=code,
            time_s=elapsed,
            metrics=metrics,
            config=spec.config,
            finished_at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        write_run_record(spec.work_dir,
                         {k: v for k, v in result.items() if k != 'reused'})
        # the tables so far, so a long study can be read while it runs
        rows, keys = build_rows(configs, info, parents, results)
        write_tables(args.work_dir, rows, keys, settings)

    rows, keys = build_rows(configs, info, parents, results)
    print(write_tables(args.work_dir, rows, keys, settings))
    bad = [(r['config'], run['seed']) for r in rows for run in r['runs']
           if run['status'] != 'ok']
    if bad:
        raise SystemExit(f'error: {len(bad)} of {len(specs)} runs did not '
                         f'finish: {bad}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
