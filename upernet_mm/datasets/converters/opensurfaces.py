"""OpenSurfaces (materials) into a source folder of the unified parsing
layout.

Reads the files that OpenSurfaces' release script
(``process_opensurfaces_release_0.py``, which Broden used as well) writes
from the released JSON:

* ``photos.csv``: one row per photo (``photo_id``, ...);
* ``photos/ID.jpg``: the photo;
* ``photos-labels/ID.png``: the labels rendered at 1024 px height, the
  substance (material) of a pixel in the red channel (0 = none), the object
  name in green, the scene in blue;
* ``label-substance-colors.csv``: ``substance_id``, ``substance_name``,
  ``red_color``.

Writes a source with the task material: each photo resized to its label
image's size (the labels' resolution), the red channel mapped to the
material list (default: every substance of the CSV, in red-colour order,
names lower-cased with ``/`` and ``' - '`` written ``-`` as the authors'
loader does); substances not in the list are "not labelled".
OpenSurfaces has no official split: every ``val_every``-th photo (in
``photo_id`` order) goes to ``validation``.
"""
import csv
import io
import os.path as osp

import cv2
import numpy as np

from ..unified_parsing_layout import UnifiedParsingDataError
from ..unified_parsing_writer import (empty_label_map, new_source_dir,
                                      sample_paths, split_dirs, write_image,
                                      write_label_map, write_metainfo,
                                      write_source_json)
from .common import open_image, shown

MAX_CSV_BYTES = 64 << 20


def material_name(name):
    """A substance name as the authors' loader normalises it."""
    return name.replace(' - ', '-').replace('/', '-').strip().lower()


def read_csv(path, columns):
    """Rows (dicts) of a CSV file of at most ``MAX_CSV_BYTES``, checked to
    have ``columns``."""
    if not osp.isfile(path):
        raise UnifiedParsingDataError(f'OpenSurfaces file {path} does not '
                                      'exist')
    if osp.getsize(path) > MAX_CSV_BYTES:
        raise UnifiedParsingDataError(
            f'{path} is larger than {MAX_CSV_BYTES} bytes')
    try:
        with open(path, encoding='utf-8', newline='') as f:
            rows = list(csv.DictReader(io.StringIO(f.read())))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UnifiedParsingDataError(
            f'{path} cannot be read as CSV ({e})') from e
    missing = [c for c in columns if rows and c not in rows[0]]
    if missing or not rows:
        raise UnifiedParsingDataError(
            f'{path} must be a CSV file with the columns {list(columns)} '
            f'and at least one row (missing: {missing})')
    return rows


def _int(row, key, path, low, high):
    text = row.get(key)
    if not isinstance(text, str) or not text.strip().isdigit() or not (
            low <= int(text) <= high):
        raise UnifiedParsingDataError(
            f'{path}: {key} must be an integer in {low}-{high}, got '
            f'{shown(text)}')
    return int(text)


def read_substances(root):
    """red colour -> normalised substance name, in red-colour order."""
    path = osp.join(root, 'label-substance-colors.csv')
    substances = {}
    for row in read_csv(path, ('substance_name', 'red_color')):
        red = _int(row, 'red_color', path, 1, 255)
        name = material_name(row['substance_name'] or '')
        if not name:
            raise UnifiedParsingDataError(
                f'{path}: red colour {red} has an empty substance name')
        substances[red] = name
    return dict(sorted(substances.items()))


def read_photo_ids(root):
    """The photo ids of ``photos.csv``, sorted."""
    path = osp.join(root, 'photos.csv')
    return sorted({
        _int(row, 'photo_id', path, 0, 10**12)
        for row in read_csv(path, ('photo_id', ))
    })


def convert_photo(root, photo_id, lut, num_classes):
    """The image (resized to its labels' size) and material map of one
    photo."""
    labels_path = osp.join(root, 'photos-labels', f'{photo_id}.png')
    labels = open_image(labels_path, 'OpenSurfaces label image')
    if labels.format != 'PNG' or labels.mode not in ('RGB', 'RGBA'):
        raise UnifiedParsingDataError(
            f'OpenSurfaces label image {labels_path} must be an RGB PNG, '
            f'got {labels.format} in mode {labels.mode}')
    photo_path = osp.join(root, 'photos', f'{photo_id}.jpg')
    photo = open_image(photo_path, 'OpenSurfaces photo')
    try:
        red = np.asarray(labels.convert('RGB'))[..., 0]
        rgb = np.asarray(photo.convert('RGB'))
    except (OSError, ValueError) as e:
        raise UnifiedParsingDataError(
            f'OpenSurfaces photo {photo_id} cannot be decoded ({e})') from e
    height, width = red.shape
    if rgb.shape[:2] != (height, width):
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    ids = lut[red]
    material = empty_label_map(red.shape, num_classes)
    material[ids >= 0] = ids[ids >= 0]
    return rgb, material


def convert_opensurfaces(root,
                         out,
                         material_classes=None,
                         val_every=10,
                         log=print):
    """Convert OpenSurfaces at ``root`` into the source folder ``out``
    (task material) with its ``metainfo.json``.

    Args:
        root (str): The folder of the release script's outputs.
        out (str): The source folder to create (missing or empty).
        material_classes (list, optional): Material names. Default: every
            substance of ``label-substance-colors.csv``.
        val_every (int): Every ``val_every``-th photo goes to the
            validation split (0: none). Default: 10.
        log (callable): Progress messages.

    Returns:
        dict: The metainfo written and, per split, the number of images.
    """
    if not osp.isdir(root):
        raise UnifiedParsingDataError(f'OpenSurfaces root {root} is not a '
                                      'folder')
    substances = read_substances(root)
    if material_classes is None:
        material_classes = list(dict.fromkeys(substances.values()))
    if not isinstance(material_classes, list) or not all(
            isinstance(m, str) for m in material_classes):
        raise ValueError('material_classes must be a list of names')
    index = {name: i for i, name in enumerate(material_classes)}
    lut = np.full(256, -1, np.int32)
    for red, name in substances.items():
        lut[red] = index.get(name, -1)
    photo_ids = read_photo_ids(root)
    new_source_dir(out)
    counts = {}
    for position, photo_id in enumerate(photo_ids):
        split = 'validation' if val_every and (
            position % val_every == val_every - 1) else 'training'
        rgb, material = convert_photo(root, photo_id, lut,
                                      len(material_classes))
        paths = sample_paths(
            split_dirs(out, split, ('material', )), str(photo_id))
        write_image(paths['img'], rgb)
        write_label_map(paths['material'], material)
        counts[split] = counts.get(split, 0) + 1
    log(', '.join(f'{split}: {n} images' for split, n in counts.items()))
    metainfo = dict(material_classes=list(material_classes))
    write_metainfo(out, metainfo)
    write_source_json(out, ('material', ))
    return dict(metainfo=metainfo, counts=counts)
