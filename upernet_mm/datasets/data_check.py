"""Checks of a segmentation dataset before training: folders, files, sizes
and label values.

mmseg finds most data problems late and opaquely: a wrong ``data_root`` is a
bare ``FileNotFoundError`` of a sub-folder, an empty split makes the
``InfiniteSampler`` wait forever, an image without annotation fails when it
is first drawn, and a label value >= ``num_classes`` ends as ``IndexError:
Target N is out of bounds`` (a device assert on GPU) hours into a run. The
functions here raise :class:`DataCheckError` naming the file and the value
instead.
"""
import os
import os.path as osp
import warnings

import mmcv
import numpy as np
from mmengine.logging import print_log
from PIL import Image, ImageFile, UnidentifiedImageError


# How mmseg's default pipeline decodes: LoadImageFromFile with OpenCV in
# colour, LoadAnnotations with Pillow, unchanged.
DEFAULT_DECODING = dict(image=('cv2', 'color'),
                        annotation=('pillow', 'unchanged'))


class DataCheckError(ValueError):
    """A dataset whose folders, files or label values would fail training."""


def _warn(message) -> None:
    print_log(message, logger='current', level=30)


def pipeline_decoding(dataset) -> dict:
    """How the dataset's pipeline decodes images and annotations: the
    ``imdecode_backend`` and ``color_type`` of its ``LoadImageFromFile`` and
    the ``imdecode_backend`` of its ``LoadAnnotations`` (mmseg's defaults
    where the pipeline has none).

    Returns:
        dict: ``image`` and ``annotation`` to ``(backend, flag)``.
    """
    decoding = dict(DEFAULT_DECODING)
    transforms = getattr(getattr(dataset, 'pipeline', None), 'transforms',
                         None) or []
    for transform in transforms:
        name = type(transform).__name__
        backend = getattr(transform, 'imdecode_backend', None)
        if backend is None:
            continue
        if name == 'LoadImageFromFile':
            decoding['image'] = (backend,
                                 getattr(transform, 'color_type', 'color'))
        elif name == 'LoadAnnotations':
            decoding['annotation'] = (backend, 'unchanged')
    return decoding


def _describe(dataset) -> str:
    return f'{type(dataset).__name__}(data_root={dataset.data_root!r})'


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
    name = _describe(dataset)
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
    return [(field, prefix[field], suffix) for field, suffix in (
        ('img_path', getattr(dataset, 'img_suffix', None)),
        ('seg_map_path', getattr(dataset, 'seg_map_suffix', None)))
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
    name = _describe(dataset)
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
    paths = [dataset.get_data_info(i).get('seg_map_path')
             for i in range(len(dataset))]
    if not all(paths):
        # samples without one annotation file each (UnifiedParsingDataset:
        # a map per task, none for image-level sources): not this layout
        return []
    used = {osp.normpath(path) for path in paths}
    unused = sorted(
        path for path, base in _walk(folder, _describe(dataset))
        if base.endswith(suffix) and osp.normpath(path) not in used)
    if unused:
        _warn(f'{_describe(dataset)}: {len(unused)} annotation file(s) in '
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
    raise DataCheckError(f'{_describe(dataset)} is empty: {source}')


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
            f'{_describe(dataset)}: {len(missing)} image(s) without '
            f'annotation{more}:\n  ' + '\n  '.join(shown))


def _pillow_header(path, kind):
    """The file opened lazily by Pillow (header only), or None if Pillow
    does not know the format. Refuses images above Pillow's
    decompression-bomb limit before anything is decoded."""
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            image = Image.open(path)
    except Image.DecompressionBombError as error:
        raise DataCheckError(
            f'{kind} {path} is too large to decode safely ({error}); a '
            'decompression bomb or a wrong file') from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    w, h = image.size
    if limit and w * h > limit:
        raise DataCheckError(
            f'{kind} {path} is {h}x{w} (h x w), {w * h / 1e6:.0f} megapixels, '
            f'more than the {limit / 1e6:.0f} megapixel limit of the '
            'decompression-bomb check (PIL.Image.MAX_IMAGE_PIXELS); decoding '
            f'it would take {w * h * 3 / 2**30:.1f} GiB per copy. A '
            'decompression bomb or a wrong file; downscale it if it is real')
    return image


def _decode(path, kind, backend, flag):
    """Decode ``path`` as the pipeline does (``mmcv.imfrombytes`` with its
    backend and flag) and return the array; raise on a file that decoder
    cannot read, and on a truncated file (which OpenCV decodes with a grey
    part, without error)."""
    if osp.lexists(path) and not osp.exists(path):
        raise DataCheckError(f'{kind} {path} is a broken symlink or a '
                             'symlink loop')
    if not osp.isfile(path):
        raise DataCheckError(f'{kind} {path} does not exist')
    if osp.getsize(path) == 0:
        raise DataCheckError(f'{kind} {path} is an empty file')
    header = _pillow_header(path, kind)
    with open(path, 'rb') as f:
        content = f.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            array = mmcv.imfrombytes(content, flag=flag, backend=backend)
    except Exception as error:  # each backend fails its own way
        array, reason = None, f'{type(error).__name__}: {error}'
    else:
        reason = 'it returned nothing'
    if array is None:
        raise DataCheckError(
            f'{kind} {path} cannot be decoded, the file is corrupt or '
            f'truncated, or in a format the pipeline\'s decoder '
            f'({backend!r}, the imdecode_backend of the pipeline\'s '
            f'{"LoadImageFromFile" if kind == "image" else "LoadAnnotations"})'
            f' does not read ({reason})')
    if header is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                header.load()
        except (OSError, SyntaxError, ValueError) as error:
            raise DataCheckError(
                f'{kind} {path} cannot be decoded, the file is corrupt or '
                f'truncated ({error}; {backend} decodes it with a missing '
                'part)') from error
    return array, header


def _size_note(array, header) -> str:
    """Say whether the decoded size is the file's rotated by its EXIF
    orientation (OpenCV applies it, Pillow does not)."""
    if header is None:
        return ''
    w, h = header.size
    rotated = tuple(array.shape[:2]) == (w, h) and w != h
    return ' after the EXIF orientation that OpenCV applies' if rotated \
        else ''


def _labels_as_loaded(label, sample):
    """The label map as mmseg's ``LoadAnnotations`` makes it."""
    label = label.astype(np.uint8)
    if sample.get('reduce_zero_label'):
        label[label == 0] = 255
        label = label - 1
        label[label == 254] = 255
    label_map = sample.get('label_map')
    if label_map:
        mapped = label.copy()
        for old_id, new_id in label_map.items():
            mapped[label == old_id] = new_id
        label = mapped
    return label


def check_sample(sample, heads, decoding=None) -> None:
    """Check one sample of a segmentation dataset's data list.

    The image and the annotation are decoded fully, with the decoders the
    pipeline uses (``decoding``, see :func:`pipeline_decoding`); the
    annotation must be a single-channel map of the image's size, whose
    values (after ``reduce_zero_label`` and ``label_map``, as
    ``LoadAnnotations`` applies them) are, for every head, class indices
    below its ``num_classes`` or its ``ignore_index``.

    Args:
        sample (dict): ``img_path`` and, for annotated data,
            ``seg_map_path``, ``reduce_zero_label``, ``label_map``.
        heads (dict | int): Head field to ``(num_classes, ignore_index)``;
            an int is one head with that ``num_classes`` and ignore index
            255.
        decoding (dict | None): From :func:`pipeline_decoding`; None for
            mmseg's default pipeline.

    Raises:
        DataCheckError: Naming the file, the value and the head at fault.
    """
    if not isinstance(heads, dict):
        heads = {'model.decode_head': (heads, 255)}
    decoding = decoding or DEFAULT_DECODING
    img_path = sample['img_path']
    image, img_header = _decode(img_path, 'image', *decoding['image'])
    seg_path = sample.get('seg_map_path')
    if seg_path is None:
        return
    if not osp.isfile(seg_path):
        raise DataCheckError(
            f'image {img_path} has no annotation: {seg_path} does not exist')
    raw, _ = _decode(seg_path, 'annotation', *decoding['annotation'])
    raw = np.squeeze(raw) if raw.ndim == 3 and raw.shape[2] == 1 else raw
    if raw.ndim == 3 and raw.shape[2] > 1:
        raise DataCheckError(
            f'annotation {seg_path} has {raw.shape[2]} channels; a label '
            'map must be a single-channel (L or P mode) PNG of class '
            'indices')
    img_size, seg_size = image.shape[:2], raw.shape[:2]
    if tuple(img_size) != tuple(seg_size):
        raise DataCheckError(
            f'image {img_path} is {img_size[0]}x{img_size[1]} (h x w)'
            f'{_size_note(image, img_header)} but its annotation {seg_path} '
            f'is {seg_size[0]}x{seg_size[1]}')
    if raw.size and int(raw.min()) < 0:
        values = np.unique(raw[raw < 0])
        raise DataCheckError(
            f'annotation {seg_path} holds negative values '
            f'{values[:10].tolist()}, which mmseg\'s LoadAnnotations turns '
            'into uint8 silently (-1 becomes 255)')
    if raw.size and int(raw.max()) > 255:
        values = np.unique(raw[raw > 255])
        raise DataCheckError(
            f'annotation {seg_path} holds values {values[:10].tolist()} > '
            '255, which mmseg\'s LoadAnnotations truncates to uint8')
    label = _labels_as_loaded(raw, sample)
    values, counts = np.unique(label, return_counts=True)
    for head, (num_classes, ignore_index) in heads.items():
        bad = (values >= num_classes) & (values != ignore_index)
        if not bad.any():
            continue
        shown = ', '.join(f'{v} ({c} pixels)'
                          for v, c in zip(values[bad][:10], counts[bad][:10]))
        applied = [k for k in ('reduce_zero_label', 'label_map')
                   if sample.get(k)]
        after = f' after {" and ".join(applied)}' if applied else ''
        raise DataCheckError(
            f'annotation {seg_path} has label value(s) {shown}{after} '
            f'outside 0..{num_classes - 1} ({head}.num_classes='
            f'{num_classes}) that are not the ignore index {ignore_index}')


def check_samples(dataset, heads, max_errors=10) -> int:
    """Decode (as the dataset's pipeline does) and check every sample of a
    fully initialised dataset.

    Args:
        dataset (BaseSegDataset): The dataset.
        heads (dict | int): See :func:`check_sample`.
        max_errors (int): Stop after this many bad samples. Default: 10.

    Returns:
        int: The number of samples checked.

    Raises:
        DataCheckError: Listing the bad samples found (file and value).
    """
    errors = []
    decoding = pipeline_decoding(dataset)
    truncated_ok = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        for index in range(len(dataset)):
            try:
                check_sample(dataset.get_data_info(index), heads, decoding)
            except DataCheckError as error:
                errors.append(str(error))
                if len(errors) >= max_errors:
                    break
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
    if errors:
        more = ' (stopped there)' if len(errors) >= max_errors else ''
        raise DataCheckError(
            f'{_describe(dataset)}: {len(errors)} bad sample(s){more}:\n  ' +
            '\n  '.join(errors))
    return len(dataset)
