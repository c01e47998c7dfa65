"""The runs of an ablation study: which configs and seeds, where each run
lives, whether it already finished, its parent config and its results.

Layout of a study's work dir::

    WORK_DIR/NAME/seedS/                 # tools/train.py --work-dir
    WORK_DIR/NAME/seedS/ablation_run.json  # written when it ends
    WORK_DIR/ablation_results.{md,json}  # or TABLE.{md,json}

NAME is the config's file name without ``.py``, or ``CONFIG_NAME-Niter``
for a config trained at another schedule length (``--max-iters N``, see
:mod:`.schedule`): each (config, length) is an entry of the study, a row of
its table.

``ablation_run.json`` records the seed, the exit code, the wall time, the
validation metrics and a fingerprint of the resolved config (with the
study's ``--cfg-options`` and the seed). A run whose record says it
finished and whose fingerprint matches is reused, not trained again; a
failed, interrupted or changed run is trained again.
"""
import ast
import glob
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

RUN_RECORD = 'ablation_run.json'
# Keys of a logged validation record that are not metrics.
NON_METRIC_KEYS = frozenset(
    {'step', 'iter', 'epoch', 'time', 'data_time', 'memory', 'lr'})


class RunSpec(NamedTuple):
    """One training run of a study."""
    config: str  # path of the config file
    name: str  # the entry's name: config file name without .py[-Niter]
    seed: int
    work_dir: str
    # KEY=VALUE options of this entry (its schedule length), applied after
    # the study's --cfg-options
    cfg_options: Tuple[str, ...] = ()


class StudyEntry(NamedTuple):
    """A row of a study: a config at its own schedule (``max_iters`` None)
    or at ``max_iters`` iterations."""
    config: str  # path of the config file
    name: str  # unique in the study: names the row and its work dirs
    max_iters: Optional[int] = None


def config_name(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def study_entries(
        configs: Sequence[str],
        max_iters: Optional[Sequence[int]] = None) -> List[StudyEntry]:
    """The entries of a study: each config at its own schedule, or, with
    ``max_iters``, each config at each of these lengths (named
    ``CONFIG_NAME-Niter``), length by length in the given order.

    Raises:
        ValueError: If a length is not an integer >= 1 or is repeated, or
            two entries have the same name (they would share work dirs).
    """
    if not max_iters:
        entries = [StudyEntry(c, config_name(c)) for c in configs]
    else:
        for n in max_iters:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(
                    f'--max-iters must be integers >= 1, got {n!r}')
        if len(set(max_iters)) != len(max_iters):
            raise ValueError(f'--max-iters repeats a length: {max_iters}')
        entries = [
            StudyEntry(c, f'{config_name(c)}-{n}iter', n) for n in max_iters
            for c in configs
        ]
    names = [e.name for e in entries]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'config names must be unique in a study (they '
                         f'name the work dirs), repeated: {dup}')
    return entries


def study_seeds(cli_seeds: Optional[int], cfg) -> List[int]:
    """Seeds of the study: ``0 .. N-1`` for N from ``--seeds``, else from
    the config field ``ablation_seeds``, else 1.

    Args:
        cli_seeds (int, optional): The ``--seeds`` value.
        cfg (mmengine.Config | dict): A config of the study (its parent's
            ``ablation_seeds`` is inherited by the children).
    """
    n = cli_seeds if cli_seeds is not None else cfg.get('ablation_seeds', 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        source = ('--seeds'
                  if cli_seeds is not None else 'config field ablation_seeds')
        raise ValueError(f'{source} must be an integer >= 1, got {n!r}')
    return list(range(n))


def plan_runs(
        entries: Sequence[StudyEntry],
        seeds: Dict[str, Sequence[int]],
        work_dir: str,
        options: Optional[Dict[str, Sequence[str]]] = None) -> List[RunSpec]:
    """All runs, seed by seed: every entry's first seed comes before any
    entry's second seed, so an interrupted study has every row early.

    Args:
        entries (Sequence[StudyEntry]): The study's entries
            (:func:`study_entries`).
        seeds (dict): Entry name -> its seeds.
        work_dir (str): Root of the study.
        options (dict, optional): Entry name -> its own KEY=VALUE options.
    """
    options = options or {}
    order = sorted({s for e in entries for s in seeds[e.name]})
    return [
        RunSpec(e.config, e.name, s, osp.join(work_dir, e.name, f'seed{s}'),
                tuple(options.get(e.name, ()))) for s in order for e in entries
        if s in seeds[e.name]
    ]


def config_fingerprint(resolved: Dict) -> str:
    """SHA-256 of a resolved config (a plain dict), independent of key
    order."""
    text = json.dumps(resolved, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _bases(path: str) -> List[str]:
    """Absolute paths of the ``_base_`` files of a config file (read as
    literals, nothing is executed)."""
    with open(path) as f:
        tree = ast.parse(f.read(), filename=path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return []
            bases = [value] if isinstance(value, str) else list(value)
            return [
                osp.realpath(osp.join(osp.dirname(path), b)) for b in bases
                if isinstance(b, str)
            ]
    return []


def find_parents(configs: Sequence[str]) -> Dict[str, Optional[str]]:
    """Parent of each config within the study: its nearest ancestor (along
    ``_base_`` files, first base first) that is itself in the study.

    Returns:
        dict: Config path -> parent config path, or None for a root.
    """
    by_real = {osp.realpath(c): c for c in configs}
    parents = {}
    for config in configs:
        parent, seen = None, set()
        todo = list(_bases(config))
        while todo and parent is None:
            base = todo.pop(0)
            if base in seen or not osp.isfile(base):
                continue
            seen.add(base)
            if base in by_real:
                parent = by_real[base]
            else:
                todo = _bases(base) + todo
        parents[config] = parent
    return parents


def entry_parents(entries: Sequence[StudyEntry]) -> Dict[str, Optional[str]]:
    """Parent of each entry: the entry of its parent config
    (:func:`find_parents`) at the same schedule length.

    Returns:
        dict: Entry name -> parent entry name, or None for a root.
    """
    configs = list(dict.fromkeys(e.config for e in entries))
    parent_of = find_parents(configs)
    by_key = {(e.config, e.max_iters): e.name for e in entries}
    return {
        e.name: by_key.get((parent_of[e.config], e.max_iters))
        for e in entries
    }


def _is_val_record(record: Dict) -> bool:
    return 'lr' not in record and not any('loss' in k for k in record)


def last_val_metrics(work_dir: str) -> Optional[Dict[str, float]]:
    """Metrics of the last validation record of the newest run (timestamped
    folder) in ``work_dir``, or None.

    A validation record is a line of ``vis_data/scalars.json`` without
    ``lr`` and losses; its metrics are its numeric values except step,
    time, data_time and memory, whatever their names (``mIoU``,
    ``parts/mIoU``...).
    """
    runs = sorted(
        glob.glob(
            osp.join(glob.escape(work_dir), '*', 'vis_data', 'scalars.json')))
    if not runs:
        return None
    metrics = None
    with open(runs[-1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash
            if isinstance(record, dict) and _is_val_record(record):
                values = {
                    k: float(v)
                    for k, v in record.items()
                    if k not in NON_METRIC_KEYS and isinstance(
                        v, (int, float)) and not isinstance(v, bool)
                }
                if values:
                    metrics = values
    return metrics


def load_run_record(work_dir: str) -> Optional[Dict]:
    """The ``ablation_run.json`` of a run, or None if it has none (never
    ran, or interrupted) or it is unreadable."""
    path = osp.join(work_dir, RUN_RECORD)
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def write_run_record(work_dir: str, record: Dict) -> None:
    """Write ``ablation_run.json`` atomically (a crash leaves the old one or
    none, never half a file)."""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, RUN_RECORD)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, path)


def is_reusable(record: Optional[Dict], fingerprint: str) -> bool:
    """Whether a recorded run finished with the same resolved config."""
    return bool(record) and record.get('status') == 'ok' and record.get(
        'fingerprint') == fingerprint and isinstance(
            record.get('metrics'), dict)
