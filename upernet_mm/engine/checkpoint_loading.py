"""Loading of local checkpoint files with ``torch.load(weights_only=True)``.

Importing this module registers :func:`load_from_local` as mmengine's
loader for local paths, so ``load_from``, ``resume`` and ``init_cfg``
checkpoints all go through it. A file holding pickled Python objects is
refused with :class:`UnsafeCheckpointError`, unless the user has trusted that
one file explicitly (``--trust-checkpoint FILE`` on the tools or the
``UPERNET_MM_TRUSTED_CHECKPOINTS`` environment variable). mmengine's loaders
of remote checkpoints (``https://``, ``open-mmlab://``, ``torchvision://``,
``mmcls://``, ``s3://``, ...) are registered again, wrapped so that they
unpickle the downloaded file with ``weights_only=True`` too.
"""
import os
import os.path as osp
import pickle
import warnings
from contextlib import contextmanager

import torch
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

TRUSTED_CHECKPOINTS_ENV = 'UPERNET_MM_TRUSTED_CHECKPOINTS'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint that cannot be loaded without running pickled code."""


def trusted_checkpoints() -> set:
    """Real paths of the files listed in ``UPERNET_MM_TRUSTED_CHECKPOINTS``
    (separated by ``os.pathsep``)."""
    value = os.environ.get(TRUSTED_CHECKPOINTS_ENV, '')
    return {osp.realpath(p) for p in value.split(os.pathsep) if p}


def trust_checkpoint(filename: str) -> None:
    """Allow full unpickling of one checkpoint file the user trusts.

    The path is added to ``UPERNET_MM_TRUSTED_CHECKPOINTS`` so that worker
    and distributed processes started later inherit the choice.

    Args:
        filename (str): The checkpoint file.
    """
    paths = trusted_checkpoints() | {osp.realpath(osp.expanduser(filename))}
    os.environ[TRUSTED_CHECKPOINTS_ENV] = os.pathsep.join(sorted(paths))


def _rejection_detail(error) -> str:
    """The line of torch's weights-only error that names what was
    rejected."""
    reason = str(error).strip().splitlines() or ['']
    return next((line for line in reason if 'Unsupported global' in line
                 or 'Unsupported operand' in line), reason[0])


def load_from_local(filename, map_location=None):
    """Load a local checkpoint with ``weights_only=True``.

    Args:
        filename (str): Path of the checkpoint.
        map_location (str | callable | None): As in :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: If the file does not exist.
        UnsafeCheckpointError: If the file needs arbitrary unpickling and
            was not trusted explicitly.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        detail = _rejection_detail(error)
        if osp.realpath(filename) not in trusted_checkpoints():
            raise UnsafeCheckpointError(
                f'Refusing to load checkpoint {filename}: it holds pickled '
                f'Python objects that torch.load(weights_only=True) rejects '
                f'({detail.strip()}), and unpickling them could run code '
                'from the file. Checkpoints written with upernet_mm\'s '
                'default_runtime (WeightsOnlyCheckpointHook) do not have '
                'this problem; this one was probably written by plain '
                'mmengine. If you trust this file, opt in for it alone: '
                f'pass `--trust-checkpoint {filename}` to tools/train.py or '
                f'tools/test.py, set {TRUSTED_CHECKPOINTS_ENV}={filename}, '
                'or rewrite it once as a safe file with `python '
                f'tools/model_converters/upgrade_checkpoint.py {filename} OUT.pth '
                '--trust`.') from error
        warnings.warn(f'Loading trusted checkpoint {filename} with '
                      'weights_only=False, as the user asked.')
        return torch.load(
            filename, map_location=map_location, weights_only=False)


@contextmanager
def _weights_only_torch_load():
    """Make every ``torch.load`` inside the block use ``weights_only=True``
    (torch's ``TORCH_FORCE_WEIGHTS_ONLY_LOAD``), also where mmengine's code
    does not pass it."""
    names = ('TORCH_FORCE_WEIGHTS_ONLY_LOAD',
             'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD')
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ[names[0]] = '1'
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def weights_only_remote_loader(name):
    """Wrap one of mmengine's loaders of remote checkpoints (``https://``,
    ``open-mmlab://``, ...) so that the downloaded file is unpickled with
    ``weights_only=True``, and a file that needs more is refused with
    :class:`UnsafeCheckpointError`.

    Args:
        name (str): Name of the loader in ``mmengine.runner.checkpoint``
            (looked up at each call), e.g. ``'load_from_http'``.

    Returns:
        callable: The wrapped loader ``(filename, map_location=None)``.
    """

    def load_from_remote(filename, map_location=None):
        loader = getattr(mmengine_checkpoint, name)
        try:
            with _weights_only_torch_load():
                return loader(filename, map_location=map_location)
        except pickle.UnpicklingError as error:
            raise UnsafeCheckpointError(
                f'Refusing to load checkpoint {filename}: it holds pickled '
                'Python objects that torch.load(weights_only=True) rejects '
                f'({_rejection_detail(error).strip()}), and unpickling them '
                'could run code from the file. If you trust it, download it '
                'and pass the local file with `--trust-checkpoint FILE`.'
            ) from error

    # mmengine logs "Loads checkpoint by {name[10:]} backend"
    load_from_remote.__name__ = name
    return load_from_remote


# mmengine logs "Loads checkpoint by {name[10:]} backend", hence the name.
CheckpointLoader.register_scheme(prefixes='', force=True)(load_from_local)
for _prefixes, _name in (
        (('http://', 'https://'), 'load_from_http'),
        ('pavi://', 'load_from_pavi'),
        (('modelzoo://', 'torchvision://'), 'load_from_torchvision'),
        (('open-mmlab://', 'openmmlab://'), 'load_from_openmmlab'),
        ('mmcls://', 'load_from_mmcls'),
        ((r'(\S+\:)?s3://', r'(\S+\:)?petrel://'), 'load_from_ceph')):
    CheckpointLoader.register_scheme(prefixes=_prefixes, force=True)(
        weights_only_remote_loader(_name))
