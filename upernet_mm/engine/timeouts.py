"""Timeouts that turn a hung process into an error.

Without them a distributed job whose rank hangs (a deadlock, a stuck file
system, a rank waiting at a collective the others never reach) waits for
gloo's default of 30 minutes per collective, and a dataloader worker that
hangs blocks training forever (PyTorch's ``DataLoader`` waits without limit
by default). :func:`apply_timeouts` sets, unless the config sets them:

* ``env_cfg.dist_cfg.timeout`` = :data:`DIST_TIMEOUT` seconds, the longest a
  rank waits for the others at a collective (gradient all-reduce, barrier,
  gathering of validation results);
* ``timeout`` = :data:`DATALOADER_TIMEOUT` seconds of every dataloader with
  ``num_workers > 0``, the longest the training process waits for one batch
  from a worker.

Change them with ``--cfg-options env_cfg.dist_cfg.timeout=3600
train_dataloader.timeout=900`` or in the config; ``timeout=0`` for a
dataloader waits forever.
"""
from mmengine.config import Config

DIST_TIMEOUT = 600
DATALOADER_TIMEOUT = 300
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def apply_timeouts(cfg: Config) -> None:
    """Set the default timeouts in ``cfg`` where it sets none (see the
    module's docstring).

    Args:
        cfg (Config): The complete config; modified in place.

    Raises:
        ValueError: Naming the field if a timeout is not a number >= 0.
    """
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = {}
    if cfg.env_cfg.get('dist_cfg') is None:
        cfg.env_cfg.dist_cfg = {}
    if cfg.env_cfg.dist_cfg.get('timeout') is None:
        cfg.env_cfg.dist_cfg.timeout = DIST_TIMEOUT
    _check(
        'env_cfg.dist_cfg.timeout',
        cfg.env_cfg.dist_cfg.timeout,
        positive=True)
    for key in _LOADERS:
        loader = cfg.get(key)
        if not loader or not loader.get('num_workers', 0):
            continue
        if loader.get('timeout') is None:
            loader.timeout = DATALOADER_TIMEOUT
        _check(f'{key}.timeout', loader.timeout)


def _check(field, value, positive=False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
        and (value > 0 if positive else value >= 0)
    if not ok:
        bound = '> 0' if positive else '>= 0 (0 waits forever)'
        raise ValueError(f'{field} must be a number of seconds {bound}, got '
                         f'{value!r}')
