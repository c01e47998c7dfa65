"""Running an ablation study: resolve its configs, decide which runs are
finished (reused) and which to train, train them through a given function,
and write the tables after every run (the loop of ``tools/ablate.py``).
"""
import glob
import json
import os
import os.path as osp
import time
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.registry import DefaultScope

from upernet_mm.registry import MODELS
from .stats import NOISE_SIGMAS, compare, summarize
from .study import (RunSpec, config_fingerprint, config_name, find_parents,
                    is_reusable, last_val_metrics, load_run_record, plan_runs,
                    study_seeds, write_run_record)
from .table import collect_metric_keys, to_markdown


def expand_configs(patterns: Sequence[str]) -> List[str]:
    """Config paths from file names and glob patterns, in order, once.

    Raises:
        FileNotFoundError: If a pattern matches nothing or a file is
            missing.
    """
    paths = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) \
            else [pattern]
        if not matches:
            raise FileNotFoundError(f'no config matches {pattern!r}')
        for path in matches:
            if not osp.isfile(path):
                raise FileNotFoundError(f'config {path} does not exist')
            if path not in paths:
                paths.append(path)
    return paths


def count_params(cfg) -> float:
    """Parameters (in millions) of the config's model."""
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model)
    return sum(p.numel() for p in model.parameters()) / 1e6


def load_study(configs: Sequence[str], seeds: Optional[int],
               cfg_options: Optional[Dict]) -> Dict[str, Dict]:
    """Resolve every config once: its seeds, resolved dict (the base of the
    runs' fingerprints) and parameters. A config that fails is reported in
    its entry's ``error`` (and in the table), not raised."""
    info = {}
    for config in configs:
        entry = dict(seeds=[], resolved=None, params_m=None, error=None)
        try:
            cfg = Config.fromfile(config)
            if cfg_options:
                cfg.merge_from_dict(cfg_options)
            entry['seeds'] = study_seeds(seeds, cfg)
            entry['resolved'] = cfg.to_dict()
            entry['params_m'] = count_params(cfg)
        except Exception as e:  # reported in the table, not fatal
            entry['error'] = f'config error: {type(e).__name__}: {e}'
            if not entry['seeds']:
                entry['seeds'] = list(range(seeds or 1))
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


def write_tables(work_dir, rows, keys, settings) -> str:
    """Write WORK_DIR/ablation_results.{md,json}; return the markdown."""
    table = to_markdown(rows, keys)
    legend = (f'\n\nmean ± sample std over the finished seeds; Δ: '
              f'difference of means to the parent, ≈ within the noise '
              f'(|Δ| <= {NOISE_SIGMAS:g} x (std + parent std)), ? noise '
              'unknown (fewer than 2 runs); time: wall time of one run.')
    with open(osp.join(work_dir, 'ablation_results.md'), 'w') as f:
        f.write(table + legend + '\n')
    with open(osp.join(work_dir, 'ablation_results.json'), 'w') as f:
        json.dump(
            dict(settings=settings, metric_keys=keys, rows=rows), f, indent=2)
    return table + legend


def _initial_results(specs, info, rerun, no_train):
    """Every run's status before training any: reused or missing."""
    results = {}
    for spec in specs:
        record = load_run_record(spec.work_dir)
        entry = info[spec.config]
        fingerprint = None
        if entry['resolved'] is not None:
            fingerprint = config_fingerprint(
                dict(config=entry['resolved'], seed=spec.seed))
        if (not rerun and fingerprint is not None
                and is_reusable(record, fingerprint)):
            results[(spec.config, spec.seed)] = dict(record, reused=True)
        elif no_train and record:
            results[(spec.config, spec.seed)] = dict(record, reused=True)
        else:
            results[(spec.config, spec.seed)] = dict(
                seed=spec.seed,
                status='missing',
                work_dir=spec.work_dir,
                fingerprint=fingerprint,
                metrics=None,
                time_s=None,
                exit_code=None,
                reused=False)
    return results


def run_study(configs: Sequence[str],
              work_dir: str,
              train: Callable[[RunSpec], int],
              seeds: Optional[int] = None,
              cfg_options: Optional[Dict] = None,
              rerun: bool = False,
              no_train: bool = False,
              settings: Optional[Dict] = None):
    """Train the runs of a study that are not finished and tabulate all.

    Args:
        configs (Sequence[str]): Config files.
        work_dir (str): Root of the runs' work dirs and of the tables.
        train (Callable[[RunSpec], int]): Trains one run (into
            ``spec.work_dir``) and returns its exit code.
        seeds (int, optional): ``--seeds``; default: the configs'
            ``ablation_seeds``, else 1.
        cfg_options (dict, optional): Merged into every config (and part of
            every run's fingerprint).
        rerun (bool): Train finished runs again.
        no_train (bool): Train nothing; tabulate the finished runs.
        settings (dict, optional): Recorded in the json.

    Returns:
        tuple[str, list, int]: The markdown table, the (config, seed) pairs
        of the runs that did not finish, and the number of runs.

    Raises:
        ValueError: If ``seeds`` or a config's ``ablation_seeds`` is not an
            integer >= 1.
    """
    if cfg_options and 'randomness.seed' in cfg_options:
        raise ValueError('the study sets randomness.seed per run; use '
                         '--seeds instead of --cfg-options randomness.seed')
    if seeds is not None and seeds < 1:
        raise ValueError(f'--seeds must be an integer >= 1, got {seeds}')
    info = load_study(configs, seeds, cfg_options)
    specs = plan_runs(configs, {c: info[c]['seeds']
                                for c in configs}, work_dir)
    parents = find_parents(configs)
    os.makedirs(work_dir, exist_ok=True)
    settings = dict(settings or {}, noise_sigmas=NOISE_SIGMAS)
    results = _initial_results(specs, info, rerun, no_train)
    todo = [] if no_train else [
        spec for spec in specs
        if results[(spec.config, spec.seed)]['status'] != 'ok'
    ]
    reused = sum(r['status'] == 'ok' for r in results.values())
    print(
        f'[ablate] {len(specs)} runs: {reused} finished and reused, '
        f'{len(todo)} to train',
        flush=True)
    for number, spec in enumerate(todo, 1):
        result = results[(spec.config, spec.seed)]
        if info[spec.config]['error']:
            result.update(status='failed', exit_code=None)
            continue
        print(
            f'[ablate] ({number}/{len(todo)}) training {spec.config} '
            f'seed {spec.seed} in {spec.work_dir}',
            flush=True)
        os.makedirs(spec.work_dir, exist_ok=True)
        start = time.perf_counter()
        code = train(spec)
        elapsed = time.perf_counter() - start
        metrics = last_val_metrics(spec.work_dir) if code == 0 else None
        ok = code == 0 and metrics is not None
        if not ok:
            print(
                f'[ablate] {spec.config} seed {spec.seed} failed (exit '
                f'code {code}' + ('' if code else ', no validation '
                                  'metrics logged') + ')',
                flush=True)
        result.update(
            status='ok' if ok else 'failed',
            exit_code=code,
            time_s=elapsed,
            metrics=metrics,
            config=spec.config,
            finished_at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        write_run_record(spec.work_dir, {
            k: v
            for k, v in result.items() if k != 'reused'
        })
        # the tables so far, so a long study can be read while it runs
        rows, keys = build_rows(configs, info, parents, results)
        write_tables(work_dir, rows, keys, settings)
    rows, keys = build_rows(configs, info, parents, results)
    table = write_tables(work_dir, rows, keys, settings)
    failed = [(r['config'], run['seed']) for r in rows for run in r['runs']
              if run['status'] != 'ok']
    return table, failed, len(specs)
