"""Checks of a segmentation dataset's folders and file lists, before
anything is decoded: ``data_root``, the image and annotation folders and the
annotation file exist, file names are valid UTF-8 and symlinks do not loop,
no split is empty and every image has its annotation file.

mmseg finds these problems late and opaquely: a wrong ``data_root`` is a
bare ``FileNotFoundError`` of a sub-folder, an empty split makes the
``InfiniteSampler`` wait forever, an image without annotation fails when it
is first drawn. The functions here raise :class:`.DataCheckError` naming the
config field and the path instead.
"""
import os
import os.path as osp

from mmengine.logging import print_log

from .errors import DataCheckError, describe


def _warn(message) -> None:
    print_log(message, logger='current', level=30)


def _listing(folder, limit=5) -> str:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return 'cannot be listed'
    if not names:
        return 'is empty'
    more = f', ... ({len(names)} entries)' if len(names) > limit else ''
    return 'holds ' + ', '.join(names[:limit]) + more


def check_data_folders(dataset) -> None:
    """Check that ``data_root``, the image and annotation folders and the
    annotation file of a dataset exist, before its data list is loaded.

    Args:
        dataset (BaseSegDataset): A dataset built with ``lazy_init=True``.

    Raises:
        DataCheckError: Naming the config field and the missing path.
    """
    name = describe(dataset)
    root = dataset.data_root
    if root and not osp.isdir(root):
        parent = osp.dirname(osp.abspath(root))
        hint = (f'its parent {parent} {_listing(parent)}'
                if osp.isdir(parent) else f'{parent} does not exist either')
        raise DataCheckError(
            f'{name}: data_root {root!r} is not a folder (resolved to '
            f'{osp.abspath(root)} from the current directory '
            f'{os.getcwd()}); {hint}. Set data_root to the dataset folder.')
    prefix = getattr(dataset, 'data_prefix', {}) or {}
    for field in ('img_path', 'seg_map_path'):
        folder = prefix.get(field)
        if folder and not osp.isdir(folder):
            where = (f'data_root {root} {_listing(root)}'
                     if root else 'no data_root is set')
            raise DataCheckError(
                f'{name}: data_prefix.{field} folder {folder} does not '
                f'exist; {where}')
    ann_file = getattr(dataset, 'ann_file', None)
    if ann_file and not osp.isfile(ann_file):
        raise DataCheckError(
            f'{name}: ann_file {ann_file} (the list of samples) does not '
            'exist')


def _folders(dataset):
    prefix = getattr(dataset, 'data_prefix', {}) or {}
    return [(field, prefix[field], suffix)
            for field, suffix in (('img_path',
                                   getattr(dataset, 'img_suffix', None)),
                                  ('seg_map_path',
                                   getattr(dataset, 'seg_map_suffix', None)))
            if prefix.get(field) and osp.isdir(prefix[field])]


def _walk(folder, name):
    """(path, name) of the files under ``folder`` (following symlinks as
    mmseg's listing does); raises on a folder symlink that loops back."""
    stack = [(folder, (osp.realpath(folder), ))]
    while stack:
        current, ancestors = stack.pop()
        for entry in sorted(os.scandir(current), key=lambda e: e.name):
            if entry.is_dir():
                real = osp.realpath(entry.path)
                if real in ancestors:
                    raise DataCheckError(
                        f'{name}: folder {entry.path} is a symlink to '
                        f'{real}, which contains it: mmseg\'s recursive '
                        'listing would list the files below it again at '
                        'every level (until the system stops it). Remove '
                        'the link')
                stack.append((entry.path, ancestors + (real, )))
            else:
                yield entry.path, entry.name


def check_folder_tree(dataset, limit=5) -> None:
    """Check the image and annotation folders of a dataset before its data
    list is loaded (one directory listing, nothing decoded).

    Raises :class:`DataCheckError` for a folder symlink that loops back to
    a folder containing it and for file names that are not valid UTF-8
    (the operating system's bytes cannot be written into logs, JSON results
    or configs). Logs a warning for broken symlinks and symlink loops (mmseg
    skips them silently) and for files whose suffix matches ``img_suffix``
    or ``seg_map_suffix`` only when the case is ignored (``.JPG`` for
    ``.jpg``: the match is case-sensitive, so they are not used).

    Args:
        dataset (BaseSegDataset): A dataset built with ``lazy_init=True``.
        limit (int): How many files to name per problem. Default: 5.
    """
    name = describe(dataset)
    for field, folder, suffix in _folders(dataset):
        broken, other_case, undecodable = [], [], []
        for path, base in _walk(folder, name):
            try:
                path.encode('utf-8')
            except UnicodeEncodeError:
                undecodable.append(repr(path))
                continue
            if not osp.exists(path):
                broken.append(path)
            elif suffix and not base.endswith(suffix) and \
                    base.lower().endswith(suffix.lower()):
                other_case.append(path)
        if undecodable:
            raise DataCheckError(
                f'{name}: {len(undecodable)} file name(s) in {folder} '
                f'({field}) are not valid UTF-8: '
                f'{", ".join(undecodable[:limit])}; rename them')
        if broken:
            _warn(f'{name}: {len(broken)} broken symlink(s) or symlink '
                  f'loop(s) in {folder} are skipped: '
                  f'{", ".join(broken[:limit])}')
        if other_case:
            _warn(f'{name}: {len(other_case)} file(s) in {folder} end in '
                  f'another case of {suffix!r} and are not used (suffixes '
                  f'are case-sensitive): {", ".join(other_case[:limit])}')


def check_annotations_without_images(dataset, limit=5) -> list:
    """Warn about annotation files that no sample of a fully initialised
    dataset uses (an image missing, or named differently).

    Returns:
        list[str]: The unused annotation files.
    """
    prefix = getattr(dataset, 'data_prefix', {}) or {}
    folder = prefix.get('seg_map_path')
    suffix = getattr(dataset, 'seg_map_suffix', None)
    if getattr(dataset, 'ann_file', None) or not folder or not suffix \
            or not osp.isdir(folder):
        return []
    paths = [
        dataset.get_data_info(i).get('seg_map_path')
        for i in range(len(dataset))
    ]
    if not all(paths):
        # samples without one annotation file each (UnifiedParsingDataset:
        # a map per task, none for image-level sources): not this layout
        return []
    used = {osp.normpath(path) for path in paths}
    unused = sorted(
        path for path, base in _walk(folder, describe(dataset))
        if base.endswith(suffix) and osp.normpath(path) not in used)
    if unused:
        _warn(f'{describe(dataset)}: {len(unused)} annotation file(s) in '
              f'{folder} have no image with suffix '
              f'{getattr(dataset, "img_suffix", None)!r} and are not used: '
              f'{", ".join(unused[:limit])}')
    return unused


def check_not_empty(dataset) -> None:
    """Raise if a fully initialised dataset has no samples.

    Args:
        dataset (BaseSegDataset): The dataset.

    Raises:
        DataCheckError: Naming the image folder, the suffix searched for and
            what the folder holds instead.
    """
    if len(dataset) > 0:
        return
    prefix = getattr(dataset, 'data_prefix', {}) or {}
    img_dir = prefix.get('img_path', dataset.data_root)
    suffix = getattr(dataset, 'img_suffix', None)
    ann_file = getattr(dataset, 'ann_file', None)
    source = f'ann_file {ann_file} lists no samples' if ann_file else \
        f'{img_dir} has no file ending in {suffix!r}; it {_listing(img_dir)}'
    if not ann_file and suffix and osp.isdir(img_dir) and any(
            n.lower().endswith(suffix.lower()) for n in os.listdir(img_dir)):
        source += ' (suffixes are case-sensitive)'
    raise DataCheckError(f'{describe(dataset)} is empty: {source}')


def _other_case(path) -> str:
    """' (FILE exists: ...)' if ``path`` exists with another case of its
    suffix."""
    stem, ext = osp.splitext(path)
    for candidate in (stem + ext.upper(), stem + ext.lower()):
        if candidate != path and osp.isfile(candidate):
            return (f' ({osp.basename(candidate)} exists: suffixes are '
                    'case-sensitive)')
    return ''


def check_annotations_exist(dataset, max_errors=10) -> None:
    """Raise if images of a fully initialised dataset have no annotation
    file (cheap: one ``stat`` per sample, nothing is decoded).

    Args:
        dataset (BaseSegDataset): The dataset.
        max_errors (int): How many missing files to name. Default: 10.

    Raises:
        DataCheckError: Naming the images and the annotation files expected.
    """
    missing = []
    for index in range(len(dataset)):
        sample = dataset.get_data_info(index)
        seg_path = sample.get('seg_map_path')
        if seg_path is not None and not osp.isfile(seg_path):
            missing.append(f'image {sample["img_path"]} has no annotation: '
                           f'{seg_path} does not exist{_other_case(seg_path)}')
    if missing:
        shown = missing[:max_errors]
        more = f' (first {max_errors} shown)' if len(missing) > max_errors \
            else ''
        raise DataCheckError(
            f'{describe(dataset)}: {len(missing)} image(s) without '
            f'annotation{more}:\n  ' + '\n  '.join(shown))
