"""Generating a dataset folder once, atomically, and checking it.

The embedded datasets (SyntheticScenes, the unified parsing data) are
written by code into a folder on first use. :func:`write_atomically` writes
into a hidden temporary sibling and renames it into place, so the folder is
either absent or complete: a crash leaves no half folder (only the hidden
sibling), and processes that generate it at the same time (distributed
training, a tool run beside a training) do not disturb each other: the
first rename wins and the others use its result. Nothing is ever written
over an existing, non-empty folder.

* :func:`generate_once`: what a dataset does on first use;
* :func:`write_or_reuse`: what a tool does (generate, or accept a complete
  folder made with the same settings);
* :func:`file_problems`: the per-folder part of a completeness check
  (:func:`some_names` names a few of many files in a message;
  :func:`regenerate_hint` and :func:`incomplete_message` word the error);
* :class:`GeneratedOnFirstUse`: the datasets' part (generate or check the
  folder when the dataset is fully initialised, and log it);
* :func:`disk_usage`: bytes under a folder, for the tools' summaries.
"""
import errno
import logging
import os
import os.path as osp
import shutil
import tempfile

from mmengine.logging import print_log


def is_empty_or_missing(root, what) -> bool:
    """Whether ``root`` is missing or an empty folder.

    Args:
        root (str): The data root.
        what (str): The dataset's name, for the error message.

    Raises:
        NotADirectoryError: If ``root`` exists and is not a folder.
    """
    if not osp.lexists(root):
        return True
    if not osp.isdir(root):
        raise NotADirectoryError(
            f'{what} data root {root} exists and is not a folder')
    return not os.listdir(root)


def write_atomically(root, write_into, what):
    """Write a folder at ``root``, which must be missing or empty, through a
    temporary sibling renamed into place at the end.

    Args:
        root (str): Folder to create (a symlink to an empty folder is
            followed: the folder is created where it points).
        write_into (Callable[[str], Any]): Writes the content into the
            folder it is given (an empty, temporary one).
        what (str): The dataset's name, for error messages.

    Returns:
        Whatever ``write_into`` returns.

    Raises:
        FileExistsError: If ``root`` is not empty, or another process put a
            folder there in the meantime (that folder is kept).
    """
    if not is_empty_or_missing(root, what):
        raise FileExistsError(
            f'{what} data root {root} exists and is not empty; it is never '
            'written over (remove it to generate again)')
    # rename into the real location, so a symlinked empty folder works too
    target = osp.realpath(root)
    parent = osp.dirname(target)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(target)}.tmp-', dir=parent)
    try:
        result = write_into(tmp)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        try:
            os.rename(tmp, target)
        except OSError as e:
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise FileExistsError(
                    f'{what} data root {root} was created by another '
                    'process while generating; keeping that one') from e
            raise
    finally:
        if osp.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def generate_once(root, write_into, what) -> bool:
    """Generate the folder ``root`` with ``write_into`` (see
    :func:`write_atomically`) if it is missing or empty.

    Safe when several processes call it at once: each generates into its own
    temporary folder and all but the first rename keep the first result.

    Returns:
        bool: Whether this call generated the folder.
    """
    if not is_empty_or_missing(root, what):
        return False
    try:
        write_atomically(root, write_into, what)
    except FileExistsError:
        if is_empty_or_missing(root, what):
            raise
        return False
    return True


def log_generation(root, settings, manifest, generated, what) -> None:
    """Log that a dataset generated ``root`` with ``settings``, or warn when
    the generated folder it found there was made with other settings (it is
    used as it is).

    Args:
        root (str): The data root.
        settings (dict): The configured generation settings.
        manifest (dict | None): The folder's manifest (None: not generated
            data, nothing to compare).
        generated (bool): Whether this process generated the folder.
        what (str): The dataset's name, for the messages.
    """
    if generated:
        print_log(
            f'Generated {what} into {root} with {settings}', logger='current')
    elif manifest is not None and manifest.get('generator') != settings:
        print_log(
            f'{what} in {root} was generated with '
            f'{manifest.get("generator")}, not with the configured '
            f'{settings}; using it as it is (remove the folder to generate '
            'it with the configured settings)',
            logger='current',
            level=logging.WARNING)


class GeneratedOnFirstUse:
    """Mixin of a dataset (an mmengine ``BaseDataset``) whose folder is
    generated on first use: with ``generate_if_missing``, ``full_init``
    generates ``data_root`` (or checks the folder there) before the data
    list is loaded, and logs what it did.

    A class defines ``generated_name`` (the dataset's name in messages) and
    the static method ``ensure_folder(root, settings) -> (manifest,
    generated)`` (manifest None: not generated data), and its ``__init__``
    sets ``generate_if_missing`` and ``generator_cfg``.
    """

    def full_init(self) -> None:
        """Generate or check the data folder, then load the data list."""
        if self._fully_initialized:
            return
        if self.generate_if_missing:
            if not self.data_root:
                raise ValueError(
                    f'{type(self).__name__} with generate_if_missing=True '
                    'needs data_root, the folder to generate into or check')
            manifest, generated = self.ensure_folder(self.data_root,
                                                     self.generator_cfg)
            log_generation(self.data_root, self.generator_cfg, manifest,
                           generated, self.generated_name)
        super().full_init()


def write_or_reuse(root, settings, write, check, manifest, what) -> bool:
    """Generate ``root`` with ``settings``, or accept the complete folder
    already there if it was generated with the same settings (what a tool
    does).

    Args:
        root (str): The data root.
        settings (dict): The completed generation settings; a folder's
            manifest holds them under ``generator``.
        write (Callable[[str], Any]): Generates the folder it is given with
            ``settings`` through :func:`write_atomically` (raising
            ``FileExistsError`` if it is not empty).
        check (Callable[[str], dict]): Checks that a folder is complete and
            returns its manifest (raising otherwise).
        manifest (str): The manifest's file name (written last).
        what (str): The dataset's name, for error messages.

    Returns:
        bool: Whether this call generated the folder.

    Raises:
        FileExistsError: If ``root`` holds something that is not generated
            data (no manifest).
        ValueError: If ``root`` holds data generated with other settings.
        NotADirectoryError: If ``root`` is not a folder.
    """
    try:
        write(root)
        return True
    except FileExistsError:
        if not osp.isfile(osp.join(root, manifest)):
            raise FileExistsError(
                f'{root} exists, is not empty and has no {manifest}: it is '
                f'not a complete {what} folder; remove it or choose another '
                'folder') from None
    made_with = check(root).get('generator')
    if made_with != settings:
        raise ValueError(
            f'{root} already holds {what} generated with {made_with}, not '
            f'{settings}; remove it first or choose another folder')
    return False


def some_names(names, limit=3) -> str:
    """The first ``limit`` of ``names`` (sorted) and how many more, for
    error messages."""
    names = sorted(names)
    more = f' and {len(names) - limit} more' if len(names) > limit else ''
    return ', '.join(names[:limit]) + more


def regenerate_hint(root) -> str:
    """What to do about a generated folder that fails its check."""
    return (f'remove {root} to generate it again, or point data_root to '
            'another folder')


def incomplete_message(root, problems, manifest, what) -> str:
    """The error of a generated folder with ``problems`` (see
    :func:`file_problems`) against its ``manifest`` file."""
    return (f'{what} folder {root} is incomplete or inconsistent with its '
            f'{manifest}: ' + '; '.join(problems) +
            f'. {regenerate_hint(root)}')


def file_problems(folder, wanted, suffix) -> list:
    """What keeps ``folder`` from holding exactly the files ``wanted``.

    Args:
        folder (str): The folder.
        wanted (Sequence[str]): The file names it should hold.
        suffix (str): Files ending in it and not wanted are unexpected.

    Returns:
        list[str]: One message per problem (the folder missing; files
        missing, unexpected or empty, naming a few), empty if none.
    """
    if not osp.isdir(folder):
        return [f'folder {folder} is missing']
    files = {name for name in os.listdir(folder) if name.endswith(suffix)}
    wanted = set(wanted)
    missing, extra = wanted - files, files - wanted
    empty = [
        name for name in wanted & files
        if osp.getsize(osp.join(folder, name)) == 0
    ]
    problems = []
    if missing:
        problems.append(f'{folder} lacks {len(missing)} of {len(wanted)} '
                        f'files ({some_names(missing)})')
    if extra:
        problems.append(f'{folder} has {len(extra)} unexpected files '
                        f'({some_names(extra)})')
    if empty:
        problems.append(f'{folder} has {len(empty)} empty files '
                        f'({some_names(empty)})')
    return problems


def disk_usage(root) -> int:
    """Bytes in the files under ``root``."""
    total = 0
    for folder, _, files in os.walk(root):
        total += sum(osp.getsize(osp.join(folder, f)) for f in files)
    return total
