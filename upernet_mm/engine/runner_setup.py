"""What tools/train.py and tools/test.py share: common arguments, config
loading and building the Runner."""
import importlib.util
import os
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

from upernet_mm.cli_args import (add_cfg_options_arg, add_trust_arg,
                                 apply_trust, merge_cfg_options)
from upernet_mm.checkpoint_loaders import install_checkpoint_loaders
from upernet_mm.registry import RUNNERS
from .cpu_distributed import setup_cpu_distributed
from .hooks import ResumeStateMixin, WeightsOnlyCheckpointHook
from .resume_state import prepare_resume
from .timeouts import apply_timeouts


def add_runner_args(parser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``,
    ``--local-rank`` and ``--trust-checkpoint`` to an argument parser."""
    parser.add_argument('--work-dir', help='directory for logs and models')
    add_cfg_options_arg(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (without CUDA, processes use gloo on the CPU)')
    add_trust_arg(parser)
    parser.add_argument(
        '--tensorboard',
        action='store_true',
        help='also log scalars to TensorBoard (event files next to '
        'scalars.json in WORK_DIR/TIMESTAMP/vis_data; needs the tensorboard '
        'package of requirements/optional.txt)')
    # torch.distributed.launch passes --local-rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args) -> Config:
    """Read ``args.config`` and apply the common arguments.

    Args:
        args (argparse.Namespace): Parsed arguments of a tool.

    Returns:
        Config: The config, with ``work_dir`` and ``launcher`` set.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    install_checkpoint_loaders()
    apply_trust(args)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args)
    if getattr(args, 'tensorboard', False):
        enable_tensorboard(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def enable_tensorboard(cfg: Config) -> None:
    """Add mmengine's ``TensorboardVisBackend`` to the visualizer's backends
    (the local backend stays), unless it is there already.

    Args:
        cfg (Config): A config with a ``visualizer``.

    Raises:
        ImportError: If the ``tensorboard`` package is not installed.
        KeyError: If the config has no ``visualizer``.
    """
    if importlib.util.find_spec('tensorboard') is None:
        raise ImportError(
            'TensorBoard logging needs the tensorboard package: pip install '
            'tensorboard (it is in requirements/optional.txt)')
    if cfg.get('visualizer') is None:
        raise KeyError('TensorBoard logging needs a visualizer in the '
                       'config (default_runtime.py defines one)')
    backends = cfg.visualizer.get('vis_backends') or []
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends = list(backends) + [dict(type='TensorboardVisBackend')]
    cfg.visualizer.vis_backends = backends


def build_runner(cfg: Config) -> Runner:
    """Build the Runner (``runner_type`` from our registry if set), after
    setting the timeouts (:func:`~upernet_mm.engine.timeouts.apply_timeouts`),
    setting up CPU-only distributed runs and, for ``resume=True``, the
    checkpoint and seed to continue from (see
    :func:`~upernet_mm.engine.resume_state.prepare_resume`).

    Checkpoints always load with ``torch.load(weights_only=True)`` and
    carry the random state: if the config's checkpoint hook is mmengine's
    ``CheckpointHook`` rather than our ``ResumableCheckpointHook``, a
    :class:`WeightsOnlyCheckpointHook` is added.

    Args:
        cfg (Config): The complete config.

    Returns:
        Runner: The runner.
    """
    apply_timeouts(cfg)
    setup_cpu_distributed(cfg, cfg.get('launcher', 'none'))
    prepare_resume(cfg)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    if not any(isinstance(h, ResumeStateMixin) for h in runner.hooks):
        runner.register_hook(WeightsOnlyCheckpointHook())
    return runner
