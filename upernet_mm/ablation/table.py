"""The markdown table of an ablation study.

One row per config: its parent in the study, finished/planned runs, for
every metric ``mean ± std`` over the finished seeds and the difference of
means to the parent with a noise mark (see :mod:`.stats`), the model's
parameters and the mean wall time of a run. ``≈`` marks a difference within
the noise (the two-standard-deviation intervals overlap), ``?`` one whose
noise is unknown (fewer than two finished runs on a side); an unmarked
difference lies outside the noise. Failed runs are listed in the notes.
"""
from typing import Dict, List, Sequence

PREFERRED_ORDER = ('mIoU', 'mAcc', 'aAcc')
WITHIN_NOISE, UNKNOWN_NOISE = '≈', '?'


def collect_metric_keys(rows: Sequence[Dict]) -> List[str]:
    """Metric names logged by any finished run: mIoU, mAcc, aAcc first (when
    present), then the others in the order they are first met."""
    seen = []
    for row in rows:
        for run in row['runs']:
            for key in (run.get('metrics') or {}):
                if key not in seen:
                    seen.append(key)
    first = [k for k in PREFERRED_ORDER if k in seen]
    return first + [k for k in seen if k not in first]


def fmt_stat(summary: Dict, digits: int = 2) -> str:
    """``mean ± std``, ``mean`` for one run, ``—`` for none."""
    if summary is None or summary.get('mean') is None:
        return '—'
    if summary.get('std') is None:
        return f'{summary["mean"]:.{digits}f}'
    return f'{summary["mean"]:.{digits}f} ± {summary["std"]:.{digits}f}'


def fmt_diff(diff: Dict, digits: int = 2) -> str:
    """``+1.23`` (outside the noise), ``+1.23 ≈`` (within), ``+1.23 ?``
    (noise unknown), ``—`` (no difference: a root or no runs)."""
    if diff is None or diff.get('delta') is None:
        return '—'
    text = f'{diff["delta"]:+.{digits}f}'
    if diff.get('within_noise') is None:
        return f'{text} {UNKNOWN_NOISE}'
    return f'{text} {WITHIN_NOISE}' if diff['within_noise'] else text


def _notes(row: Dict) -> str:
    notes = []
    for run in row['runs']:
        if run['status'] == 'failed':
            notes.append(f'seed {run["seed"]} failed (exit code '
                         f'{run.get("exit_code")})')
        elif run['status'] == 'missing':
            notes.append(f'seed {run["seed"]} not run')
    if row.get('error'):
        notes.append(row['error'])
    return '; '.join(notes)


def to_markdown(rows: Sequence[Dict], metric_keys: Sequence[str]) -> str:
    """The study's table; see the module docstring for the columns."""
    head = ['config', 'parent', 'runs']
    for key in metric_keys:
        head += [key, f'Δ {key}']
    head += ['params (M)', 'time (s)', 'notes']
    lines = [
        '| ' + ' | '.join(head) + ' |',
        '|' + '|'.join(['---'] * 3 + ['---:'] *
                       (2 * len(metric_keys) + 2) + ['---']) + '|'
    ]
    for row in rows:
        done = sum(run['status'] == 'ok' for run in row['runs'])
        cells = [
            row['config'],
            row.get('parent') or '—', f'{done}/{len(row["runs"])}'
        ]
        for key in metric_keys:
            cells.append(fmt_stat(row['stats'].get(key)))
            cells.append(fmt_diff(row['diff'].get(key)))
        params = row.get('params_m')
        cells.append('—' if params is None else f'{params:.3f}')
        cells.append(fmt_stat(row['stats'].get('time_s'), digits=0))
        cells.append(_notes(row))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)
