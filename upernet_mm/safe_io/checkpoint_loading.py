"""Loading checkpoints that come from outside without running their code.

Every checkpoint is hostile until proven otherwise. :func:`load_from_local`
unpickles with ``torch.load(weights_only=True)``; a file that holds pickled
Python objects is refused with :class:`UnsafeCheckpointError`, unless the user
trusted that exact content by its SHA-256 (``--trust-checkpoint SHA256`` on
the tools, :func:`trust_checkpoint` in Python). The trust lives in the
process only: it is not passed to child processes through the environment,
and another file later put at the same path is refused again.

A loaded checkpoint is then made inert for mmengine (:func:`sanitize`):
``meta['config']``, which ``Runner.resume`` would execute as Python, is moved
to ``meta['untrusted_config']`` (text kept, never executed), and the message
hub's ``runtime_info`` entries that name checkpoints (``best_ckpt*``,
``last_ckpt``, ``keep_ckpt_ids``) must have the types mmengine writes. The
checkpoint hook checks that such paths lie in its folder before deleting
anything (:func:`require_inside`).

:func:`register_safe_loaders` installs these loaders in mmengine's
``CheckpointLoader`` for local paths and for mmengine's remote schemes
(``https://``, ``open-mmlab://``, ``torchvision://``, ...); ``http://``
downloads, which nothing authenticates, are refused.
"""
import hashlib
import io
import os
import os.path as osp
import pickle
import re
import warnings
from contextlib import contextmanager

import torch
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint (or a value in it) that cannot be used without trusting
    its author: it needs arbitrary unpickling, or names paths or values that
    upernet_mm will not act on."""


_SHA256 = re.compile(r'^(?:sha256:)?([0-9a-fA-F]{64})$')
_TRUSTED_SHA256 = set()


def sha256_of_file(filename: str) -> str:
    """Hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(filename, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def parse_sha256(value: str) -> str:
    """``value`` as 64 lowercase hex digits (``sha256:`` prefix allowed).

    Raises:
        ValueError: If it is not a SHA-256 (e.g. a path).
    """
    match = _SHA256.match(str(value).strip())
    if match is None:
        raise ValueError(
            'expected the SHA-256 of the checkpoint file you trust (64 hex '
            f'digits, as printed by `sha256sum FILE`), got {value!r}; trust '
            'is given to a content, not to a path')
    return match.group(1).lower()


def trust_checkpoint(sha256: str) -> None:
    """Allow full unpickling of the checkpoint whose content has this
    SHA-256 (and of no other file), in this process.

    Args:
        sha256 (str): 64 hex digits, optionally prefixed by ``sha256:``
            (``sha256sum FILE`` prints them; the refusal message too).

    Raises:
        ValueError: If ``sha256`` is not a SHA-256 (e.g. a path: trust is
            given to a content, not to a path).
    """
    _TRUSTED_SHA256.add(parse_sha256(sha256))


def trusted_sha256() -> frozenset:
    """The SHA-256 digests trusted in this process."""
    return frozenset(_TRUSTED_SHA256)


def _rejection_detail(error) -> str:
    """The line of torch's weights-only error that names what was
    rejected."""
    reason = str(error).strip().splitlines() or ['']
    return next(
        (line for line in reason
         if 'Unsupported global' in line or 'Unsupported operand' in line),
        reason[0]).strip()


def require_inside(path, folder, field: str) -> str:
    """``path`` as a real path if it lies inside ``folder``, else raise.

    Use it before deleting or overwriting a path that came from a file
    (e.g. ``runtime_info['best_ckpt']`` of a resumed checkpoint).

    Args:
        path (str): The path to check (relative paths are taken from the
            current directory, as file operations would).
        folder (str): The folder it must lie in.
        field (str): What ``path`` is, named in the error.

    Returns:
        str: The real path.

    Raises:
        UnsafeCheckpointError: Naming ``field``, ``path`` and ``folder``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise UnsafeCheckpointError(
            f'{field}={path!r} is not a path; refusing to act on it')
    real = osp.realpath(path)
    root = osp.realpath(folder)
    if real == root or osp.commonpath([real, root]) != root:
        raise UnsafeCheckpointError(
            f'{field}={str(path)!r} is not inside {root}; upernet_mm only '
            'deletes or replaces checkpoints in their own folder (a '
            'checkpoint written elsewhere, or crafted, names this path)')
    return real


def _check_runtime_info(checkpoint: dict, filename: str) -> None:
    hub = checkpoint.get('message_hub')
    info = hub.get('runtime_info') if isinstance(hub, dict) else None
    if not isinstance(info, dict):
        return
    for key, value in info.items():
        field = f"{filename}: message_hub.runtime_info['{key}']"
        if key == 'last_ckpt' or str(key).startswith('best_ckpt'):
            if not isinstance(value, str) or '\0' in value:
                raise UnsafeCheckpointError(
                    f'{field}={value!r} must be a checkpoint path (str)')
            # mmengine deletes the previous best checkpoint when a better
            # one is saved: only a file it named itself may be meant
            if str(key).startswith('best_ckpt') and not osp.basename(
                    value.rstrip('/')).startswith('best_'):
                raise UnsafeCheckpointError(
                    f'{field}={value!r} is not a best checkpoint '
                    '(best_*.pth) that mmengine would have written; a '
                    'resumed run would delete it when it saves a better one')
        elif key == 'keep_ckpt_ids':
            if not isinstance(value, (list, tuple)) or not all(
                    isinstance(v, int) and not isinstance(v, bool)
                    for v in value):
                raise UnsafeCheckpointError(
                    f'{field}={value!r} must be a list of epoch/iteration '
                    'numbers (ints): they name the checkpoints that '
                    'max_keep_ckpts deletes')


def sanitize(checkpoint, filename: str):
    """Make a loaded checkpoint inert for mmengine (in place).

    * ``meta['config']`` (Python text that mmengine's ``Runner.resume``
      executes with ``Config.fromstring``) moves to
      ``meta['untrusted_config']``;
    * ``message_hub.runtime_info`` entries naming checkpoints must have
      mmengine's types (paths are checked against the work dir by the
      checkpoint hook before any deletion).

    Args:
        checkpoint: What ``torch.load`` returned.
        filename (str): Where it comes from, named in errors.

    Returns:
        The same object.

    Raises:
        UnsafeCheckpointError: For a runtime entry of the wrong type.
    """
    if not isinstance(checkpoint, dict):
        return checkpoint
    meta = checkpoint.get('meta')
    if isinstance(meta, dict) and 'config' in meta:
        meta['untrusted_config'] = meta.pop('config')
    _check_runtime_info(checkpoint, filename)
    return checkpoint


def load_from_local(filename, map_location=None):
    """Load a local checkpoint with ``weights_only=True``, then
    :func:`sanitize` it.

    Args:
        filename (str): Path of the checkpoint.
        map_location (str | callable | None): As in :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: If the file does not exist.
        UnsafeCheckpointError: If the file needs arbitrary unpickling and
            its SHA-256 was not trusted, or a value in it is unsafe.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        scheme = re.match(r'^(\w+)://', filename)
        if scheme:
            raise FileNotFoundError(
                f'checkpoint {filename}: no loader is registered for '
                f'{scheme.group(0)}; for hf:// call '
                'upernet_mm.utils.register_all_modules() (or upernet_mm.'
                'checkpoint_loaders.install_checkpoint_loaders()) first, as '
                'upernet_mm\'s tools and apis do')
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    try:
        checkpoint = torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        # hash and unpickle the same bytes: the file may change meanwhile
        with open(filename, 'rb') as f:
            data = f.read()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in _TRUSTED_SHA256:
            raise UnsafeCheckpointError(
                f'Refusing to load checkpoint {filename}: it holds pickled '
                'Python objects that torch.load(weights_only=True) rejects '
                f'({_rejection_detail(error)}), and unpickling them could run '
                'code from the file. Checkpoints written by upernet_mm\'s '
                'tools do not have this problem; this one was probably '
                'written by plain mmengine. If you trust this exact file '
                f'(SHA-256 {digest}), rewrite it once as a safe file: `python '
                f'tools/model_converters/upgrade_checkpoint.py {filename} '
                f'OUT.pth --trust-checkpoint {digest}`, or pass '
                f'`--trust-checkpoint {digest}` to the tool that loads it.'
            ) from error
        warnings.warn(f'Loading trusted checkpoint {filename} (SHA-256 '
                      f'{digest}) with weights_only=False, as the user '
                      'asked.')
        checkpoint = torch.load(
            io.BytesIO(data), map_location=map_location, weights_only=False)
    return sanitize(checkpoint, filename)


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
    ``weights_only=True`` (a file that needs more is refused with
    :class:`UnsafeCheckpointError`) and then :func:`sanitize`-d.

    Args:
        name (str): Name of the loader in ``mmengine.runner.checkpoint``
            (looked up at each call), e.g. ``'load_from_http'``.

    Returns:
        callable: The wrapped loader ``(filename, map_location=None)``.
    """

    def load_from_remote(filename, map_location=None):
        if str(filename).startswith('http://'):
            raise UnsafeCheckpointError(
                f'Refusing to download checkpoint {filename}: plain http:// '
                'is not authenticated, anyone on the way can replace the '
                'file. Use https://, or download it, check its SHA-256 and '
                'load the local file.')
        loader = getattr(mmengine_checkpoint, name)
        try:
            with _weights_only_torch_load():
                checkpoint = loader(filename, map_location=map_location)
        except pickle.UnpicklingError as error:
            raise UnsafeCheckpointError(
                f'Refusing to load checkpoint {filename}: it holds pickled '
                'Python objects that torch.load(weights_only=True) rejects '
                f'({_rejection_detail(error)}), and unpickling them could run '
                'code from the file. If you trust it, download it and pass '
                '`--trust-checkpoint SHA256` (its sha256sum) with the local '
                'file.') from error
        return sanitize(checkpoint, filename)

    # mmengine logs "Loads checkpoint by {name[10:]} backend"
    load_from_remote.__name__ = name
    return load_from_remote


# (prefixes, loader) of every scheme upernet_mm installs; built once so that
# registering again installs the very same functions
_REMOTE = (
    (('http://', 'https://'), 'load_from_http'),
    (('pavi://', ), 'load_from_pavi'),
    (('modelzoo://', 'torchvision://'), 'load_from_torchvision'),
    (('open-mmlab://', 'openmmlab://'), 'load_from_openmmlab'),
    (('mmcls://', ), 'load_from_mmcls'),
    ((r'(\S+\:)?s3://', r'(\S+\:)?petrel://'), 'load_from_ceph'),
)
SAFE_SCHEMES = ((('', ), load_from_local), ) + tuple(
    (prefixes, weights_only_remote_loader(name)) for prefixes, name in _REMOTE)


def register_schemes(schemes) -> None:
    """Install ``(prefixes, loader)`` pairs in mmengine's
    ``CheckpointLoader`` unless each prefix already has that very loader
    (idempotent, and cheap when nothing changed)."""
    registered = CheckpointLoader._schemes
    for prefixes, loader in schemes:
        missing = [p for p in prefixes if registered.get(p) is not loader]
        if missing:
            CheckpointLoader.register_scheme(
                prefixes=missing, loader=loader, force=True)


def register_safe_loaders() -> None:
    """Make mmengine load every checkpoint through the loaders above."""
    register_schemes(SAFE_SCHEMES)
