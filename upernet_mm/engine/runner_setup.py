"""Building the Runner of tools/train.py and tools/test.py (their arguments
and config loading: ``upernet_mm.cli_args``)."""
import importlib.util

from mmengine.config import Config
from mmengine.runner import Runner

from upernet_mm.registry import RUNNERS
from .cpu_distributed import setup_cpu_distributed
from .hooks import ResumeStateMixin, WeightsOnlyCheckpointHook
from .resume_state import prepare_resume
from .timeouts import apply_timeouts


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
