"""A config's iteration-based schedule at another length
(``tools/ablate.py --max-iters N``), so that one config can be trained at
several schedule lengths without a config file per length.

The schedule at ``N`` iterations is the config's schedule with

* ``train_cfg.max_iters = N``;
* every iteration-based LR/momentum scheduler that ends at the config's
  ``max_iters`` ending at ``N`` instead (the decay reaches its end value at
  the new end); schedulers that end earlier (a warm-up) keep their length,
  as mmseg's schedules of different lengths do;
* ``train_cfg.val_interval`` and ``default_hooks.checkpoint.interval`` (if
  iteration-based) scaled by ``N / max_iters`` and rounded (at least 1), so
  a run validates as often per schedule (mmengine also validates and saves
  at the last iteration).

Everything else (optimizer, warm-up, data, model) is the config's.
"""
from typing import Dict

from mmengine.config import Config


def _scaled(interval: int, new: int, old: int) -> int:
    """``interval * new / old`` rounded half up (in integers), at least 1."""
    return max(1, (2 * interval * new + old) // (2 * old))


def schedule_options(cfg: Config,
                     max_iters: int,
                     source: str = 'the config') -> Dict[str, int]:
    """The ``--cfg-options`` that move ``cfg``'s schedule to ``max_iters``
    iterations (see the module docstring), as flat ``KEY: VALUE`` pairs
    (``param_scheduler.1.end`` for the second scheduler of a list).

    Args:
        cfg (Config): A resolved config with an iteration-based
            ``train_cfg``.
        max_iters (int): The new schedule length.
        source (str): How errors name the config (its path).

    Raises:
        ValueError: If ``max_iters`` is not an integer >= 1, the config has
            no ``train_cfg.max_iters``, a scheduler is epoch-based, or one
            that keeps its length would begin or end after the new end.
    """
    if isinstance(max_iters,
                  bool) or not isinstance(max_iters, int) or max_iters < 1:
        raise ValueError(f'max_iters must be an integer >= 1, got '
                         f'{max_iters!r}')
    train_cfg = cfg.get('train_cfg') or {}
    old = train_cfg.get('max_iters')
    if isinstance(old, bool) or not isinstance(old, int) or old < 1:
        raise ValueError(
            f'{source}: a schedule length needs an iteration-based '
            f'train_cfg with an integer max_iters, got train_cfg='
            f'{dict(train_cfg)!r}')
    options = {'train_cfg.max_iters': max_iters}
    if train_cfg.get('val_interval') is not None:
        options['train_cfg.val_interval'] = _scaled(train_cfg.val_interval,
                                                    max_iters, old)
    schedulers = cfg.get('param_scheduler') or []
    as_list = isinstance(schedulers, (list, tuple))
    for i, sched in enumerate(schedulers if as_list else [schedulers]):
        key = f'param_scheduler.{i}' if as_list else 'param_scheduler'
        # mmengine's parameter schedulers are epoch-based by default
        if sched.get('by_epoch', True):
            raise ValueError(
                f'{source}: {key} ({sched.get("type")}) is epoch-based '
                '(by_epoch is not False); a schedule length applies to '
                'iteration-based schedulers')
        begin, end = sched.get('begin', 0), sched.get('end')
        if end == old:
            options[f'{key}.end'] = max_iters
        elif end is not None and end > max_iters:
            raise ValueError(
                f'{source}: {key} ({sched.get("type")}) ends at iteration '
                f'{end}, after the new max_iters {max_iters} (only '
                f'schedulers that end at max_iters={old} are moved)')
        if begin >= max_iters:
            raise ValueError(
                f'{source}: {key} ({sched.get("type")}) begins at '
                f'iteration {begin}, not before the new max_iters '
                f'{max_iters}')
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    if checkpoint.get('interval') is not None and checkpoint.get(
            'by_epoch') is False:
        options['default_hooks.checkpoint.interval'] = _scaled(
            checkpoint['interval'], max_iters, old)
    return options
