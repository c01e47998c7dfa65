"""Checks of a segmentation dataset's samples by decoding them as its
pipeline does: readable, not truncated, not a decompression bomb, an
annotation of the image's size with one channel, and label values (after
``reduce_zero_label`` and ``label_map``) within every head's classes or its
ignore index.

A label value >= ``num_classes`` would otherwise end as ``IndexError: Target
N is out of bounds`` (a device assert on GPU) hours into a run; the
functions here raise :class:`.DataCheckError` naming the file and the value
instead.
"""
import os.path as osp
import warnings

import mmcv
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from .errors import DataCheckError, describe

# How mmseg's default pipeline decodes: LoadImageFromFile with OpenCV in
# colour, LoadAnnotations with Pillow, unchanged.
DEFAULT_DECODING = dict(
    image=('cv2', 'color'), annotation=('pillow', 'unchanged'))


def pipeline_decoding(dataset) -> dict:
    """How the dataset's pipeline decodes images and annotations: the
    ``imdecode_backend`` and ``color_type`` of its ``LoadImageFromFile`` and
    the ``imdecode_backend`` of its ``LoadAnnotations`` (mmseg's defaults
    where the pipeline has none).

    Returns:
        dict: ``image`` and ``annotation`` to ``(backend, flag)``.
    """
    decoding = dict(DEFAULT_DECODING)
    transforms = getattr(
        getattr(dataset, 'pipeline', None), 'transforms', None) or []
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
        applied = [
            k for k in ('reduce_zero_label', 'label_map') if sample.get(k)
        ]
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
            f'{describe(dataset)}: {len(errors)} bad sample(s){more}:\n  ' +
            '\n  '.join(errors))
    return len(dataset)
