"""Train several configs with several seeds and tabulate mean ± std.

Each (config, seed) run is tools/train.py in its own process and work dir
(WORK_DIR/CONFIG_NAME/seedS, with ``randomness.seed=S``: the seed sets the
initialisation, the data order and the augmentation). The table has, per
config, every logged validation metric as mean ± sample std over the
finished seeds, the difference to the config's parent (its nearest
``_base_`` ancestor in the study) marked ``≈`` when the two
2-standard-deviation intervals overlap (within the noise), the parameters
and the mean wall time of a run. The json keeps every run's numbers.

With --max-iters N [N ...] every config is trained at each of these
schedule lengths instead of its own (runs named CONFIG_NAME-Niter; the
schedulers that end at the config's max_iters end at N, warm-up kept,
validation and checkpoint intervals scaled; see
upernet_mm/ablation/schedule.py), e.g. to measure the seed-to-seed spread
of one config at several lengths.

Finished runs are reused when the study is run again (an interrupted study
resumes; a run is trained again if its resolved config changed, or with
--rerun); a failed run is reported in the table and the others go on.
Studies sharing a work dir share their runs; --table keeps their tables
apart.

Example:
    python tools/ablate.py 'configs/ablations/*.py' --seeds 3
    python tools/ablate.py configs/ablations/a.py configs/ablations/b.py \\
        --work-dir work_dirs/ablations --cfg-options train_cfg.max_iters=200
    python tools/ablate.py 'configs/ablations/*.py' --no-train  # table only
    python tools/ablate.py configs/a.py --seeds 3 --max-iters 750 1500 \
        --work-dir results/study --table noise
"""
import os
import os.path as osp
import subprocess
import sys

from upernet_mm.ablation import RunSpec
from upernet_mm.ablation.runner import expand_configs, run_study
from upernet_mm.cli_args import add_cfg_options_arg, tool_parser

TOOLS = osp.dirname(osp.abspath(__file__))
TRAIN = osp.join(TOOLS, 'train.py')
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')


def parse_args(argv=None):
    parser = tool_parser(__doc__)
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
    add_cfg_options_arg(parser)  # also passed to every run's tools/train.py
    parser.add_argument(
        '--max-iters',
        type=int,
        nargs='+',
        metavar='N',
        help='train every config at each of these schedule lengths '
        '(iterations) instead of its own; runs named CONFIG_NAME-Niter')
    parser.add_argument(
        '--table',
        default='ablation_results',
        help='name of the result tables in the work dir (NAME.md, '
        'NAME.json; default: %(default)s)')
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
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1, got {args.threads}')
    return args


def train_command(spec: RunSpec, cfg_options):
    """tools/train.py command line of one run: the study's ``cfg_options``
    (KEY=VALUE strings), then the run's own (its schedule length), then the
    seed, so each wins over what comes before."""
    return [
        sys.executable, TRAIN, spec.config, '--work-dir', spec.work_dir,
        '--cfg-options', *cfg_options, *spec.cfg_options,
        f'randomness.seed={spec.seed}'
    ]


def child_env(threads):
    """The environment of a training process: ``threads`` threads, and
    this copy of upernet_mm first on ``PYTHONPATH``."""
    env = dict(os.environ)
    if threads is not None:
        for var in THREAD_VARS:
            env[var] = str(threads)
    root = osp.dirname(TOOLS)
    paths = [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
    if root not in paths:
        env['PYTHONPATH'] = os.pathsep.join([root] + paths)
    return env


def main(argv=None):
    args = parse_args(argv)
    env = child_env(args.threads)

    def train(spec):
        return subprocess.call(
            train_command(spec, args.cfg_option_strings), env=env)

    try:
        table, failed, num_runs = run_study(
            expand_configs(args.configs),
            args.work_dir,
            train,
            seeds=args.seeds,
            cfg_options=args.cfg_options,
            rerun=args.rerun,
            no_train=args.no_train,
            settings=dict(
                cfg_options=args.cfg_option_strings, threads=args.threads),
            max_iters=args.max_iters,
            table_name=args.table)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    print(table)
    if failed:
        sys.exit(f'error: {len(failed)} of {num_runs} runs did not finish: '
                 f'{failed}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
