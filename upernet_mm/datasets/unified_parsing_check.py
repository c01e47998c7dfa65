"""Full check of unified parsing data before training: every image and every
label map of every task decoded, sizes compared, label values checked.

What is always checked when the dataset loads its data list (one ``stat``
per file, nothing decoded): every source's ``source.json``, that the label
folders and files of every task a source claims exist, and the image-level
labels (every image has them, every name is in its class list). This module
adds, for ``tools/train.py --check-data``, what needs the pixels: per task,
that the label maps are single-channel 8- or 16-bit PNGs holding class ids
(or their "not labelled" value, 255 or 65535), that part labels sit on
objects that have parts and are within their object's parts, and that an
image and its label maps have one size.
"""
import warnings

import numpy as np
from PIL import Image, ImageFile

from .unified_parsing_classes import PIXEL_TASKS
from .unified_parsing_layout import UnifiedParsingDataError, label_map_to_ids
from .unified_parsing_transforms import check_label_maps

# Pillow's modes of single-channel 8-bit and 16-bit PNGs (older Pillow
# versions open 16-bit ones in mode I)
LABEL_MODES = ('L', 'P', 'I;16', 'I;16B', 'I;16L', 'I')


def _decode(path, kind):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            image = Image.open(path)
            image.load()
    except (OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as e:
        raise UnifiedParsingDataError(
            f'{kind} {path} cannot be decoded, the file is corrupt or '
            f'truncated ({e})') from e
    return image


def check_unified_parsing_sample(info, spec):
    """Decode and check one sample of ``UnifiedParsingDataset``.

    Args:
        info (dict): Its data info (``img_path``, ``*_map_path``).
        spec (dict): ``dataset.label_spec()``.

    Raises:
        UnifiedParsingDataError: Naming the file and the value at fault.
    """
    image = _decode(info['img_path'], 'image')
    maps, paths = {}, {}
    for task in PIXEL_TASKS:
        path = info.get(f'{task}_map_path')
        if path is None:
            continue
        label = _decode(path, f'{task} label file')
        if label.mode not in LABEL_MODES:
            raise UnifiedParsingDataError(
                f'{task} label file {path} has mode {label.mode}; a label '
                'map must be a single-channel 8-bit (L or P mode) or 16-bit '
                '(I;16 mode) PNG')
        if label.size != image.size:
            raise UnifiedParsingDataError(
                f'{task} label file {path} is {label.size[1]}x'
                f'{label.size[0]} (h x w) but its image {info["img_path"]} '
                f'is {image.size[1]}x{image.size[0]}')
        maps[task] = label_map_to_ids(
            np.asarray(label), path, spec.get('ignore_index', 255))
        paths[task] = path
    check_label_maps(maps, paths, spec)


def check_unified_parsing_samples(dataset, max_errors=10):
    """Decode and check every sample of a ``UnifiedParsingDataset``.

    Args:
        dataset (UnifiedParsingDataset): A fully initialised dataset.
        max_errors (int): Stop after this many bad samples. Default: 10.

    Returns:
        dict: Per source, the number of samples checked.

    Raises:
        UnifiedParsingDataError: Listing the bad samples (file and value).
    """
    spec = dataset.label_spec()
    errors, counts = [], {}
    truncated_ok = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            try:
                check_unified_parsing_sample(info, spec)
            except UnifiedParsingDataError as e:
                errors.append(f'[{info["source"]}] {e}')
                if len(errors) >= max_errors:
                    break
            counts[info['source']] = counts.get(info['source'], 0) + 1
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
    if errors:
        more = ' (stopped there)' if len(errors) >= max_errors else ''
        raise UnifiedParsingDataError(
            f'UnifiedParsingDataset(data_root={dataset.data_root!r}, split='
            f'{dataset.split!r}): {len(errors)} bad sample(s){more}:\n  ' +
            '\n  '.join(errors))
    return counts
