"""Crash-safe writes of local files.

:func:`atomic_write` writes to a hidden temporary file in the target's
folder, flushes and fsyncs it, renames it over the target and fsyncs the
folder: a reader (or ``--resume``) sees either the old file or the complete
new one, never a truncated file, even if the process is killed or the
machine loses power mid-write. :class:`AtomicLocalBackend` is mmengine's
local file backend with its ``put``/``put_text`` made atomic, registered as
the file backend ``'upernet_mm_atomic_local'``.
"""
import os
import os.path as osp
import uuid

from mmengine.fileio import LocalBackend, register_backend

BACKEND_NAME = 'upernet_mm_atomic_local'
TMP_SUFFIX = '.upernet_mm-tmp'


def temporary_name(path: str) -> str:
    """A unique hidden name next to ``path``, ending in :data:`TMP_SUFFIX`
    (so that mmengine never takes it for a checkpoint)."""
    folder, name = osp.split(path)
    unique = f'{os.getpid()}-{uuid.uuid4().hex[:8]}'
    return osp.join(folder, f'.{name}.{unique}{TMP_SUFFIX}')


def fsync_dir(folder: str) -> None:
    """Make a rename in ``folder`` durable (no-op where folders cannot be
    opened, e.g. on Windows)."""
    try:
        fd = os.open(folder or '.', os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_synced(f, data: bytes) -> None:
    f.write(data)
    f.flush()
    os.fsync(f.fileno())


def atomic_write(path: str, data) -> None:
    """Write ``data`` to ``path`` atomically and durably.

    Args:
        path (str): Target file; its folder is created if missing.
        data (bytes | str): Content; ``str`` is encoded as UTF-8.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    path = osp.abspath(path)
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = temporary_name(path)
    # 0o666 & ~umask, like open(path, 'wb')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, 'wb') as f:
            _write_synced(f, data)
        os.replace(tmp, path)
    except BaseException:
        if osp.lexists(tmp):
            os.remove(tmp)
        raise
    fsync_dir(folder)


def remove_stale_temporaries(folder: str) -> list:
    """Remove temporary files that a killed writer left in ``folder``.

    Args:
        folder (str): Folder to clean (not recursive).

    Returns:
        list[str]: The removed paths.
    """
    removed = []
    if not osp.isdir(folder):
        return removed
    for name in os.listdir(folder):
        if name.startswith('.') and name.endswith(TMP_SUFFIX):
            path = osp.join(folder, name)
            try:
                os.remove(path)
                removed.append(path)
            except FileNotFoundError:  # another process removed it
                pass
    return removed


@register_backend(BACKEND_NAME, force=True)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes are atomic (see
    :func:`atomic_write`)."""

    def put(self, obj: bytes, filepath) -> None:
        """Write bytes to ``filepath`` atomically."""
        atomic_write(str(filepath), obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically."""
        atomic_write(str(filepath), obj.encode(encoding))
