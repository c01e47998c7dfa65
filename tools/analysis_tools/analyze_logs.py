"""Plot training curves (loss, mIoU, mAcc, ...) of one or several runs into
one PNG, one panel per metric and one line per run.

Examples:
    python tools/analysis_tools/analyze_logs.py work_dirs/upernet_convnext \\
        --out curves.png
    python tools/analysis_tools/analyze_logs.py work_dirs/a work_dirs/b \\
        --legend A B --keys loss decode.acc_seg mIoU --out ablation.png

A run is a work dir (all its TIMESTAMP/vis_data/scalars.json files, in
time order, so resumed runs continue) or one such json file, as written by
mmengine's LocalVisBackend: one json object per line with a "step". The x
axis is the training iteration: validation records count at the iteration
after which they were logged (mmengine logs them with the epoch as "step"
unless the LoggerHook has log_metric_by_epoch=False).
"""
import glob
import json
import os.path as osp
import sys
from collections import defaultdict

from upernet_mm.cli_args import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument(
        'runs', nargs='+', help='work dirs or scalars.json files')
    parser.add_argument(
        '--keys',
        nargs='+',
        default=['loss', 'mIoU', 'mAcc'],
        help='metrics to plot, one panel each (default: loss mIoU mAcc)')
    parser.add_argument(
        '--legend',
        nargs='+',
        help='one name per run (default: the work '
        'dir names)')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--out', required=True, help='output image (.png)')
    parser.add_argument('--dpi', type=int, default=100)
    args = parser.parse_args(argv)
    if args.legend and len(args.legend) != len(args.runs):
        parser.error(f'--legend has {len(args.legend)} names for '
                     f'{len(args.runs)} runs')
    return args


def log_files(run):
    """The scalar json files of a run, oldest first.

    Raises:
        FileNotFoundError: Naming the run when it has none.
    """
    if osp.isfile(run):
        return [run]
    files = sorted(glob.glob(osp.join(run, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'{run} has no */vis_data/scalars.json (is it the work dir of a '
            'run with the LocalVisBackend?)')
    return files


def load_run(run):
    """Read a run's scalars as ``{key: {iteration: value}}``.

    Training records carry their ``iter``; a record without one (validation)
    is placed at the iteration of the training record before it, or at its
    ``step`` when none came before. A later file (a resumed run) overrides
    the iterations it repeats.

    The last record of a file may be incomplete (a run killed while it
    was written): it is skipped with a warning on stderr.

    Raises:
        ValueError: Naming the file and line of a malformed record before
            the last one.
    """
    series = defaultdict(dict)
    for path in log_files(run):
        last_iter = None
        with open(path) as f:
            lines = f.read().split('\n')
        # a run killed while LocalVisBackend wrote leaves a partial last line
        last = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                step = int(record['step'])
            except (ValueError, KeyError, TypeError) as error:
                if number - 1 == last:
                    print(
                        f'warning: {path}:{number}: skipped the incomplete '
                        'last record (the run was probably stopped while '
                        'writing it)',
                        file=sys.stderr)
                    continue
                raise ValueError(
                    f'{path}:{number}: not a scalar record with a '
                    f'"step" ({error})') from error
            skip = {'step', 'iter'}
            if 'iter' in record:
                last_iter = step = int(record['iter'])
            else:
                # the timings of a validation are not the iteration's
                skip |= {'time', 'data_time'}
                if last_iter is not None:
                    step = last_iter
            for key, value in record.items():
                if key not in skip and isinstance(value, (int, float)):
                    series[key][step] = float(value)
    return series


def plot(runs, names, keys, out, title=None, dpi=100):
    """Draw one panel per key with one line per run and save it.

    Args:
        runs (list[dict]): Series of each run, from :func:`load_run`.
        names (list[str]): Legend entries.
        keys (list[str]): Metrics to draw.
        out (str): Output file.

    Raises:
        KeyError: If no run has one of the keys (the message lists the keys
            the runs have).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    for key in keys:
        if not any(key in series for series in runs):
            known = sorted(set().union(*runs))
            raise KeyError(f'no run logged {key!r}; logged keys: '
                           f'{", ".join(known)}')
    fig, axes = plt.subplots(
        1, len(keys), figsize=(4.2 * len(keys), 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for series, name in zip(runs, names):
            if key not in series:
                continue
            steps = sorted(series[key])
            values = [series[key][s] for s in steps]
            few = len(steps) <= 30
            ax.plot(
                steps,
                values,
                marker='o' if few else None,
                markersize=3,
                label=name)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize='small')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    names = args.legend or [
        osp.basename(osp.normpath(r)) if osp.isdir(r) else r for r in args.runs
    ]
    try:
        runs = [load_run(run) for run in args.runs]
        plot(runs, names, args.keys, args.out, args.title, args.dpi)
    except (FileNotFoundError, ValueError, KeyError) as error:
        sys.exit(f'error: {error.args[0] if error.args else error}')
    for series, name in zip(runs, names):
        last = ', '.join(f'{k}={series[k][max(series[k])]:.4g}'
                         for k in args.keys if k in series)
        print(f'{name}: {last}')
    print(f'wrote {args.out}')


if __name__ == '__main__':
    sys.exit(main())
