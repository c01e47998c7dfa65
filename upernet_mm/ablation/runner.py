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
from .schedule import schedule_options
from .stats import NOISE_SIGMAS, compare, summarize
from .study import (RunSpec, StudyEntry, config_fingerprint, entry_parents,
                    is_reusable, last_val_metrics, load_run_record, plan_runs,
                    study_entries, study_seeds, write_run_record)
from .table import collect_metric_keys, to_markdown

DEFAULT_TABLE = 'ablation_results'


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


def load_study(entries: Sequence[StudyEntry], seeds: Optional[int],
               cfg_options: Optional[Dict]) -> Dict[str, Dict]:
    """Resolve every entry once: its seeds, its own options (a schedule
    length's), resolved dict (the base of the runs' fingerprints) and
    parameters, by entry name. An entry that fails is reported in its
    ``error`` (and in the table), not raised."""
    info = {}
    for study_entry in entries:
        entry = dict(
            seeds=[], options=[], resolved=None, params_m=None, error=None)
        try:
            cfg = Config.fromfile(study_entry.config)
            if cfg_options:
                cfg.merge_from_dict(cfg_options)
            if study_entry.max_iters is not None:
                options = schedule_options(cfg, study_entry.max_iters,
                                           study_entry.config)
                cfg.merge_from_dict(options)
                entry['options'] = [f'{k}={v}' for k, v in options.items()]
            entry['seeds'] = study_seeds(seeds, cfg)
            entry['resolved'] = cfg.to_dict()
            entry['params_m'] = count_params(cfg)
        except Exception as e:  # reported in the table, not fatal
            entry['error'] = f'config error: {type(e).__name__}: {e}'
            if not entry['seeds']:
                entry['seeds'] = list(range(seeds or 1))
        info[study_entry.name] = entry
    return info


def build_rows(entries, info, parents, results):
    """Rows of the table and json (stats and differences computed here)."""
    rows = []
    for entry in entries:
        name = entry.name
        runs = [results[(name, s)] for s in info[name]['seeds']]
        rows.append(
            dict(
                config=name,
                path=entry.config,
                max_iters=entry.max_iters,
                parent=parents[name],
                params_m=info[name]['params_m'],
                error=info[name]['error'],
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


def write_tables(work_dir,
                 rows,
                 keys,
                 settings,
                 table_name=DEFAULT_TABLE) -> str:
    """Write WORK_DIR/TABLE_NAME.{md,json}; return the markdown."""
    table = to_markdown(rows, keys)
    legend = (f'\n\nmean ± sample std over the finished seeds; Δ: '
              f'difference of means to the parent, ≈ within the noise '
              f'(|Δ| <= {NOISE_SIGMAS:g} x (std + parent std)), ? noise '
              'unknown (fewer than 2 runs); time: wall time of one run.')
    with open(osp.join(work_dir, f'{table_name}.md'), 'w') as f:
        f.write(table + legend + '\n')
    with open(osp.join(work_dir, f'{table_name}.json'), 'w') as f:
        json.dump(
            dict(settings=settings, metric_keys=keys, rows=rows), f, indent=2)
    return table + legend


def _initial_results(specs, info, rerun, no_train):
    """Every run's status before training any: reused or missing."""
    results = {}
    for spec in specs:
        record = load_run_record(spec.work_dir)
        entry = info[spec.name]
        fingerprint = None
        if entry['resolved'] is not None:
            fingerprint = config_fingerprint(
                dict(config=entry['resolved'], seed=spec.seed))
        if (not rerun and fingerprint is not None
                and is_reusable(record, fingerprint)):
            results[(spec.name, spec.seed)] = dict(record, reused=True)
        elif no_train and record:
            results[(spec.name, spec.seed)] = dict(record, reused=True)
        else:
            results[(spec.name, spec.seed)] = dict(
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
              settings: Optional[Dict] = None,
              max_iters: Optional[Sequence[int]] = None,
              table_name: str = DEFAULT_TABLE):
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
        max_iters (Sequence[int], optional): Train every config at each of
            these schedule lengths (:mod:`.schedule`), as entries named
            ``CONFIG_NAME-Niter``; default: each config at its own.
        table_name (str): The tables are ``WORK_DIR/TABLE_NAME.{md,json}``
            (several studies can share a work dir, and so their runs).

    Returns:
        tuple[str, list, int]: The markdown table, the (config, seed) pairs
        of the runs that did not finish, and the number of runs.

    Raises:
        ValueError: If ``seeds`` or a config's ``ablation_seeds`` is not an
            integer >= 1, ``max_iters`` has a length < 1 or a repeated one,
            or ``table_name`` is not a plain file name.
    """
    if cfg_options and 'randomness.seed' in cfg_options:
        raise ValueError('the study sets randomness.seed per run; use '
                         '--seeds instead of --cfg-options randomness.seed')
    if seeds is not None and seeds < 1:
        raise ValueError(f'--seeds must be an integer >= 1, got {seeds}')
    if (not table_name or table_name in ('.', '..')
            or osp.basename(table_name) != table_name):
        raise ValueError('the table name must be a file name without a '
                         f'folder, got {table_name!r}')
    entries = study_entries(configs, max_iters)
    info = load_study(entries, seeds, cfg_options)
    specs = plan_runs(entries,
                      {e.name: info[e.name]['seeds']
                       for e in entries}, work_dir,
                      {e.name: info[e.name]['options']
                       for e in entries})
    parents = entry_parents(entries)
    os.makedirs(work_dir, exist_ok=True)
    settings = dict(
        settings or {},
        max_iters=list(max_iters) if max_iters else None,
        noise_sigmas=NOISE_SIGMAS)
    results = _initial_results(specs, info, rerun, no_train)
    todo = [] if no_train else [
        spec for spec in specs
        if results[(spec.name, spec.seed)]['status'] != 'ok'
    ]
    reused = sum(r['status'] == 'ok' for r in results.values())
    print(
        f'[ablate] {len(specs)} runs: {reused} finished and reused, '
        f'{len(todo)} to train',
        flush=True)
    for number, spec in enumerate(todo, 1):
        result = results[(spec.name, spec.seed)]
        if info[spec.name]['error']:
            result.update(status='failed', exit_code=None)
            continue
        print(
            f'[ablate] ({number}/{len(todo)}) training {spec.name} '
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
                f'[ablate] {spec.name} seed {spec.seed} failed (exit '
                f'code {code}' + ('' if code else ', no validation '
                                  'metrics logged') + ')',
                flush=True)
        result.update(
            status='ok' if ok else 'failed',
            exit_code=code,
            time_s=elapsed,
            metrics=metrics,
            config=spec.config,
            run_options=list(spec.cfg_options),
            finished_at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        write_run_record(spec.work_dir, {
            k: v
            for k, v in result.items() if k != 'reused'
        })
        # the tables so far, so a long study can be read while it runs
        rows, keys = build_rows(entries, info, parents, results)
        write_tables(work_dir, rows, keys, settings, table_name)
    rows, keys = build_rows(entries, info, parents, results)
    table = write_tables(work_dir, rows, keys, settings, table_name)
    failed = [(r['config'], run['seed']) for r in rows for run in r['runs']
              if run['status'] != 'ok']
    return table, failed, len(specs)
