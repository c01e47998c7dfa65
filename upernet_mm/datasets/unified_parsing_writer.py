"""Writing a source folder of the unified parsing layout (see
``unified_parsing_layout``): images, label maps (8- or 16-bit), the
image-level labels, ``source.json`` and ``metainfo.json``. The embedded
data generator and the dataset converters write through these functions.
"""
import json
import os
import os.path as osp

import cv2
import numpy as np

from .unified_parsing_layout import (IMG_DIR, IMG_SUFFIX, LABELS_DIR,
                                     METAINFO_FILE, NOT_LABELLED,
                                     SEG_MAP_SUFFIX, SOURCE_FILE,
                                     label_map_dtype)

JPEG_QUALITY = 90
PNG_COMPRESSION = 9


def encode_file(path, array, params):
    """Encode ``array`` with OpenCV (format from the suffix of ``path``)
    and write it to ``path``."""
    ok, data = cv2.imencode(osp.splitext(path)[1], array, params)
    if not ok:
        raise RuntimeError(f'OpenCV failed to encode {path}')
    with open(path, 'wb') as f:
        f.write(data.tobytes())


def write_image(path, rgb):
    """Write an RGB uint8 image as JPEG (quality ``JPEG_QUALITY``)."""
    encode_file(path, np.ascontiguousarray(rgb[..., ::-1]),
                [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])


def empty_label_map(shape, num_ids):
    """A label map of ``shape`` for ids ``0 .. num_ids - 1``, every pixel
    "not labelled" (8-bit up to 255 ids, else 16-bit)."""
    dtype = label_map_dtype(num_ids)
    return np.full(shape, NOT_LABELLED[dtype], dtype)


def write_label_map(path, seg):
    """Write a uint8 or uint16 label map (255 or 65535 = not labelled) as
    a PNG of that depth."""
    if seg.ndim != 2 or seg.dtype not in NOT_LABELLED:
        raise ValueError(f'a label map must be a 2-D uint8 or uint16 '
                         f'array, got {seg.shape} {seg.dtype} for {path}')
    encode_file(path, seg, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])


def split_dirs(source_dir, split, pixel_tasks):
    """Create ``images/SPLIT`` and the label folders of ``pixel_tasks``;
    return task (and ``'img'``) -> folder."""
    dirs = dict(img=osp.join(source_dir, IMG_DIR, split))
    dirs.update(
        {task: osp.join(source_dir, task, split)
         for task in pixel_tasks})
    for folder in dirs.values():
        os.makedirs(folder, exist_ok=True)
    return dirs


def sample_paths(dirs, stem, img_suffix=IMG_SUFFIX):
    """The files of one sample in the folders of :func:`split_dirs`."""
    return {
        key:
        osp.join(folder,
                 stem + (img_suffix if key == 'img' else SEG_MAP_SUFFIX))
        for key, folder in dirs.items()
    }


def write_image_labels(source_dir, split, labels):
    """Write ``labels/SPLIT.json``: stem -> {task: class name}."""
    os.makedirs(osp.join(source_dir, LABELS_DIR), exist_ok=True)
    with open(osp.join(source_dir, LABELS_DIR, split + '.json'), 'w') as f:
        json.dump(labels, f, indent=0, sort_keys=True)


def write_source_json(source_dir, tasks, img_suffix=IMG_SUFFIX):
    """Write ``source.json``; the reader lists a folder as a source only
    once it holds this file, so converters write it last."""
    with open(osp.join(source_dir, SOURCE_FILE), 'w') as f:
        json.dump(dict(tasks=list(tasks), img_suffix=img_suffix), f, indent=2)


def write_metainfo(source_dir, metainfo):
    """Write the class lists the source's label files index to
    ``metainfo.json`` (keys as the dataset's ``metainfo``)."""
    path = osp.join(source_dir, METAINFO_FILE)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(metainfo, f, indent=1, ensure_ascii=False)
    return path


def new_source_dir(source_dir):
    """Create ``source_dir``, which must be missing or an empty folder (a
    converter never writes over data)."""
    if osp.lexists(source_dir) and (not osp.isdir(source_dir)
                                    or os.listdir(source_dir)):
        raise FileExistsError(
            f'{source_dir} exists and is not an empty folder; it is never '
            'written over (remove it or choose another output folder)')
    os.makedirs(source_dir, exist_ok=True)
