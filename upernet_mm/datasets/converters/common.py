"""What the dataset converters share: opening files from outside as
hostile, and the part lists of objects."""
import os.path as osp
import re
import warnings

from PIL import Image

from ..unified_parsing_layout import UnifiedParsingDataError

OTHER = 'other'
# at most this many pixels in an image or label map (the converted datasets'
# largest images have a few million)
MAX_PIXELS = 64 << 20
# file names that converters use as the stems of what they write
SAFE_STEM = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$')


def shown(value):
    """A value for a message, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def open_image(path, kind, size=None):
    """Open an image file lazily (header only), checked for its number of
    pixels (Pillow's decompression bomb limit too) and, if given, for
    ``size`` (w, h)."""
    if not osp.isfile(path):
        raise UnifiedParsingDataError(f'{kind} {path} does not exist')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            image = Image.open(path)
    except (OSError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as e:
        raise UnifiedParsingDataError(
            f'{kind} {path} cannot be read as an image ({e})') from e
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise UnifiedParsingDataError(
            f'{kind} {path} is {height}x{width}, more than {MAX_PIXELS} '
            'pixels')
    if size is not None and image.size != size:
        raise UnifiedParsingDataError(
            f'{kind} {path} is {height}x{width} (h x w) but its image is '
            f'{size[1]}x{size[0]}')
    return image


def derive_part_classes(part_counts, classes, min_images):
    """Per object class, ``'other'`` and then its parts annotated in at
    least ``min_images`` images, the most frequent first."""
    result = {}
    for index, name in enumerate(classes):
        counted = sorted(((-n, part) for (i, part), n in part_counts.items()
                          if i == index and n >= min_images))
        if counted:
            result[name] = [OTHER] + [part for _, part in counted]
    return result


def check_part_classes(part_classes, classes):
    """``part_classes`` given by the user: object name -> part names, with
    ``'other'`` first (added where missing)."""
    if not isinstance(part_classes, dict):
        raise ValueError('part classes must be an object: object class -> '
                         'list of part names')
    result = {}
    for obj, parts in part_classes.items():
        if obj not in classes:
            raise ValueError(f'part classes name the object {obj!r}, which '
                             'is not in the object classes')
        if not isinstance(parts, list) or not all(
                isinstance(p, str) for p in parts):
            raise ValueError(f'the parts of {obj!r} must be a list of names')
        parts = [OTHER] + [p for p in parts if p != OTHER]
        if len(parts) < 2:
            raise ValueError(f'object {obj!r} has no part besides "other"')
        result[obj] = parts
    return result


def part_indices(part_classes, classes):
    """How a converter writes part maps: per object class index, part name
    -> index in the object's part list; and the length of the longest part
    list (at least 1)."""
    part_index = {
        classes.index(obj): {
            part: index
            for index, part in enumerate(parts)
        }
        for obj, parts in part_classes.items()
    }
    num_parts = max([len(parts) for parts in part_classes.values()] + [1])
    return part_index, num_parts
