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

import numpy as np
from PIL import Image, ImageFile

# EXIF orientations that swap width and height (OpenCV, which loads the
# images in mmseg's pipelines, applies the orientation; Pillow does not).
_TRANSPOSED_ORIENTATIONS = (5, 6, 7, 8)
_EXIF_ORIENTATION = 0x0112


class DataCheckError(ValueError):
    """A dataset whose folders, files or label values would fail training."""


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
    raise DataCheckError(f'{_describe(dataset)} is empty: {source}')


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
                           f'{seg_path} does not exist')
    if missing:
        shown = missing[:max_errors]
        more = f' (first {max_errors} shown)' if len(missing) > max_errors \
            else ''
        raise DataCheckError(
            f'{_describe(dataset)}: {len(missing)} image(s) without '
            f'annotation{more}:\n  ' + '\n  '.join(shown))


def _open_fully(path, kind):
    """Decode an image file with Pillow; raise on a corrupt or truncated
    file."""
    if not osp.isfile(path):
        raise DataCheckError(f'{kind} {path} does not exist')
    if osp.getsize(path) == 0:
        raise DataCheckError(f'{kind} {path} is an empty file')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            image = Image.open(path)
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError
            ) as error:
        raise DataCheckError(f'{kind} {path} cannot be decoded, the file is '
                             f'corrupt or truncated ({error})') from error
    return image


def _loaded_size(image):
    """(h, w) of an image as OpenCV loads it (EXIF orientation applied)."""
    w, h = image.size
    orientation = image.getexif().get(_EXIF_ORIENTATION)
    return (w, h) if orientation in _TRANSPOSED_ORIENTATIONS else (h, w)


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


def check_sample(sample, num_classes, ignore_index=255) -> None:
    """Check one sample of a segmentation dataset's data list.

    The image and the annotation are decoded fully; the annotation must be a
    single-channel map of the image's size, whose values (after
    ``reduce_zero_label`` and ``label_map``, as ``LoadAnnotations`` applies
    them) are class indices below ``num_classes`` or ``ignore_index``.

    Args:
        sample (dict): ``img_path`` and, for annotated data,
            ``seg_map_path``, ``reduce_zero_label``, ``label_map``.
        num_classes (int): Number of classes the model predicts.
        ignore_index (int): Label value ignored by the loss. Default: 255.

    Raises:
        DataCheckError: Naming the file and the value at fault.
    """
    img_path = sample['img_path']
    image = _open_fully(img_path, 'image')
    seg_path = sample.get('seg_map_path')
    if seg_path is None:
        return
    if not osp.isfile(seg_path):
        raise DataCheckError(
            f'image {img_path} has no annotation: {seg_path} does not exist')
    annotation = _open_fully(seg_path, 'annotation')
    raw = np.asarray(annotation)
    if raw.ndim == 3 and raw.shape[2] > 1:
        raise DataCheckError(
            f'annotation {seg_path} has {raw.shape[2]} channels (mode '
            f'{annotation.mode}); a label map must be a single-channel (L '
            'or P mode) PNG of class indices')
    raw = raw.reshape(raw.shape[:2])
    img_size, seg_size = _loaded_size(image), raw.shape
    if tuple(img_size) != tuple(seg_size):
        rotated = ' after the EXIF orientation that OpenCV applies' \
            if img_size != image.size[::-1] else ''
        raise DataCheckError(
            f'image {img_path} is {img_size[0]}x{img_size[1]} (h x w)'
            f'{rotated} but its annotation {seg_path} is '
            f'{seg_size[0]}x{seg_size[1]}')
    if raw.size and int(raw.max()) > 255:
        values = np.unique(raw[raw > 255])
        raise DataCheckError(
            f'annotation {seg_path} holds values {values[:10].tolist()} > '
            '255, which mmseg\'s LoadAnnotations truncates to uint8')
    label = _labels_as_loaded(raw, sample)
    values, counts = np.unique(label, return_counts=True)
    bad = (values >= num_classes) & (values != ignore_index)
    if bad.any():
        shown = ', '.join(f'{v} ({c} pixels)'
                          for v, c in zip(values[bad][:10], counts[bad][:10]))
        applied = [k for k in ('reduce_zero_label', 'label_map')
                   if sample.get(k)]
        after = f' after {" and ".join(applied)}' if applied else ''
        raise DataCheckError(
            f'annotation {seg_path} has label value(s) {shown}{after} '
            f'outside 0..{num_classes - 1} (num_classes={num_classes}) that '
            f'are not the ignore index {ignore_index}')


def check_samples(dataset, num_classes, ignore_index=255,
                  max_errors=10) -> int:
    """Decode and check every sample of a fully initialised dataset.

    Args:
        dataset (BaseSegDataset): The dataset.
        num_classes (int): Number of classes the model predicts.
        ignore_index (int): Label value ignored by the loss. Default: 255.
        max_errors (int): Stop after this many bad samples. Default: 10.

    Returns:
        int: The number of samples checked.

    Raises:
        DataCheckError: Listing the bad samples found (file and value).
    """
    errors = []
    truncated_ok = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        for index in range(len(dataset)):
            try:
                check_sample(dataset.get_data_info(index), num_classes,
                             ignore_index)
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
