"""Pascal-Part (objects and parts) into a source folder of the unified
parsing layout.

Reads the release as published: ``Annotations_Part/NAME.mat`` (MATLAB v5,
read with ``scipy.io.loadmat``, which only reads data) holding ``anno``
with ``imname`` and ``objects``, each object with ``class`` (a Pascal VOC
class name), ``class_ind``, ``mask`` (its silhouette) and ``parts`` (each
with ``part_name`` and ``mask``); the images are Pascal VOC 2010's
``JPEGImages/NAME.jpg``. Later objects occlude earlier ones, as in the
release's own ``mat2map.m``.

* Objects: the 20 VOC classes (mmseg's ``PascalVOCDataset`` names, its
  background left out) by their ``class`` name, or another list mapping
  each class to the VOC names it covers; pixels of no object are "not
  labelled" (Pascal-Part annotates the 20 classes only).
* Parts: the part name without its instance number (``wheel_2`` ->
  ``wheel``); as in the authors' loader, the parts of an object class are
  valid in an image only where one of its listed parts is annotated there.
* Splits: names listed in split files (e.g. VOC2010's
  ``ImageSets/Main/train.txt`` and ``val.txt``); without them every image
  goes to ``training``.
"""
import os
import os.path as osp
import re
import shutil
from collections import Counter

import numpy as np
from mmseg.datasets import PascalVOCDataset
from scipy.io import loadmat

from ..unified_parsing_layout import UnifiedParsingDataError
from ..unified_parsing_writer import (empty_label_map, new_source_dir,
                                      sample_paths, split_dirs,
                                      write_label_map, write_metainfo,
                                      write_source_json)
from .common import (OTHER, SAFE_STEM, check_part_classes, derive_part_classes,
                     open_image, part_indices, shown)

TASKS = ('object', 'part')
MAX_MAT_BYTES = 256 << 20
MAX_SPLIT_BYTES = 16 << 20
INSTANCE_NUMBER = re.compile(r'_\d+$')


def default_object_names():
    """The 20 Pascal VOC classes: name -> the VOC name it covers."""
    return {
        name: [name]
        for name in PascalVOCDataset.METAINFO['classes']
        if name != 'background'
    }


def part_name(raw):
    """The part class of a Pascal-Part part name: without its instance
    number."""
    return INSTANCE_NUMBER.sub('', raw)


def _field(struct, name, path, where):
    """Field ``name`` of a MATLAB struct read by loadmat (a numpy record)."""
    names = getattr(getattr(struct, 'dtype', None), 'names', None) or ()
    if name not in names:
        raise UnifiedParsingDataError(
            f'{path}: {where} has no field {name!r} (fields: '
            f'{list(names)}); not a Pascal-Part annotation')
    return struct[name]


def _string(value, path, where):
    flat = np.asarray(value).ravel()
    if flat.size != 1 or not isinstance(flat[0], str):
        raise UnifiedParsingDataError(
            f'{path}: {where} must be a string, got {shown(value)}')
    return flat[0]


def _mask(value, path, where, shape):
    mask = np.asarray(value)
    if mask.ndim != 2 or mask.dtype.kind not in 'biu' or (shape is not None and
                                                          mask.shape != shape):
        raise UnifiedParsingDataError(
            f'{path}: {where} must be a 2-D integer mask' +
            (f' of {shape[0]}x{shape[1]}' if shape else '') +
            f', got {mask.shape} {mask.dtype}')
    return mask.astype(bool)


def _structs(value, path, where):
    array = np.asarray(value)
    if array.size and array.dtype.names is None:
        raise UnifiedParsingDataError(
            f'{path}: {where} must be a struct array, got {array.dtype}')
    return list(array.ravel())


def read_annotation(path, shape=None):
    """The objects of a Pascal-Part ``.mat``: list of dicts with ``class``,
    ``mask`` and ``parts`` (list of (part name, mask)), masks checked to be
    of ``shape`` (h, w) if given.

    Raises:
        UnifiedParsingDataError: Naming the file and the field at fault.
    """
    if osp.getsize(path) > MAX_MAT_BYTES:
        raise UnifiedParsingDataError(
            f'{path} is larger than {MAX_MAT_BYTES} bytes')
    try:
        data = loadmat(path)
    except Exception as e:  # scipy raises many kinds on a bad file
        raise UnifiedParsingDataError(
            f'{path} cannot be read as a MATLAB v5 file ({e})') from e
    if 'anno' not in data:
        raise UnifiedParsingDataError(f'{path} holds no "anno" struct')
    anno = _structs(data['anno'], path, 'anno')
    if len(anno) != 1:
        raise UnifiedParsingDataError(f'{path}: anno must be one struct')
    objects = []
    for i, obj in enumerate(
            _structs(
                _field(anno[0], 'objects', path, 'anno'), path,
                'anno.objects')):
        where = f'anno.objects({i + 1})'
        mask = _mask(
            _field(obj, 'mask', path, where), path, f'{where}.mask', shape)
        shape = mask.shape
        parts = []
        for j, part in enumerate(
                _structs(
                    _field(obj, 'parts', path, where), path,
                    f'{where}.parts')):
            pwhere = f'{where}.parts({j + 1})'
            parts.append((part_name(
                _string(
                    _field(part, 'part_name', path, pwhere), path,
                    f'{pwhere}.part_name')),
                          _mask(
                              _field(part, 'mask', path, pwhere), path,
                              f'{pwhere}.mask', shape)))
        objects.append(
            dict(
                name=_string(
                    _field(obj, 'class', path, where), path, f'{where}.class'),
                mask=mask,
                parts=parts))
    return objects


def read_split_file(path):
    """Image names of a split file (one per line, VOC's ImageSets)."""
    if not osp.isfile(path) or osp.getsize(path) > MAX_SPLIT_BYTES:
        raise UnifiedParsingDataError(
            f'split file {path} does not exist or is larger than '
            f'{MAX_SPLIT_BYTES} bytes')
    with open(path, encoding='utf-8', errors='replace') as f:
        names = [line.split()[0] for line in f if line.strip()]
    bad = [n for n in names if not SAFE_STEM.match(n)]
    if bad:
        raise UnifiedParsingDataError(
            f'split file {path} lists {shown(bad[0])}, not a plain image '
            'name')
    return names


def list_annotations(root):
    """name -> ``.mat`` path of ``root/Annotations_Part`` (or ``root``
    itself if it holds the ``.mat`` files)."""
    folder = osp.join(root, 'Annotations_Part')
    if not osp.isdir(folder):
        folder = root
    if not osp.isdir(folder):
        raise UnifiedParsingDataError(f'Pascal-Part root {root} is not a '
                                      'folder')
    found = {
        name[:-4]: osp.join(folder, name)
        for name in sorted(os.listdir(folder)) if name.endswith('.mat')
        and SAFE_STEM.match(name[:-4]) and osp.isfile(osp.join(folder, name))
    }
    if not found:
        raise UnifiedParsingDataError(
            f'no .mat file in {folder}: give the Pascal-Part folder that '
            'holds Annotations_Part')
    return found


def _object_lut(object_names):
    lut = {}
    for index, voc_names in enumerate(object_names.values()):
        for voc in [voc_names] if isinstance(voc_names, str) else voc_names:
            lut[voc] = index
    return lut


def convert_image(objects, shape, lut, part_index, num_classes, num_parts):
    """Object and part maps of one image's objects."""
    obj_map = empty_label_map(shape, num_classes)
    part_map = empty_label_map(shape, num_parts)
    ids = np.full(shape, -1, np.int32)
    for obj in objects:
        ids[obj['mask']] = lut.get(obj['name'], -1)
    obj_map[ids >= 0] = ids[ids >= 0]
    annotated = set()
    for obj in objects:
        index = lut.get(obj['name'])
        if index in part_index and any(name in part_index[index]
                                       for name, _ in obj['parts']):
            annotated.add(index)
    for index in annotated:
        part_map[ids == index] = 0
    for obj in objects:
        index = lut.get(obj['name'])
        if index not in annotated:
            continue
        for name, mask in obj['parts']:
            if name in part_index[index]:
                part_map[mask & obj['mask'] & (ids == index)] = \
                    part_index[index][name]
    return obj_map, part_map


def convert_pascal_part(root,
                        images,
                        out,
                        split_files=None,
                        object_names=None,
                        part_classes=None,
                        min_part_images=1,
                        log=print):
    """Convert Pascal-Part into the source folder ``out`` (tasks object
    and part) with its ``metainfo.json``.

    Args:
        root (str): The Pascal-Part folder (holding ``Annotations_Part``).
        images (str): The folder of the images (VOC2010 ``JPEGImages``).
        out (str): The source folder to create (missing or empty).
        split_files (dict, optional): Split -> file of image names. Default:
            every annotated image in ``training``.
        object_names (dict, optional): Object class -> VOC class name(s) it
            covers. Default: the 20 VOC classes.
        part_classes (dict, optional): Object class -> part names. Default:
            the parts of each object annotated in at least
            ``min_part_images`` training images.
        min_part_images (int): See ``part_classes``. Default: 1.
        log (callable): Progress messages.

    Returns:
        dict: The metainfo written and, per split, the number of images.
    """
    annotations = list_annotations(root)
    if split_files:
        splits = {
            split: [n for n in read_split_file(path) if n in annotations]
            for split, path in split_files.items()
        }
    else:
        splits = dict(training=sorted(annotations))
    if object_names is None:
        object_names = default_object_names()
    classes = list(object_names)
    lut = _object_lut(object_names)
    if part_classes is None:
        counts = Counter()
        for name in splits.get('training', []):
            seen = set()
            for obj in read_annotation(annotations[name]):
                if obj['name'] in lut:
                    seen.update((lut[obj['name']], part)
                                for part, _ in obj['parts'] if part != OTHER)
            counts.update(seen)
        part_classes = derive_part_classes(counts, classes, min_part_images)
    else:
        part_classes = check_part_classes(part_classes, classes)
    part_index, num_parts = part_indices(part_classes, classes)
    new_source_dir(out)
    for split, names in splits.items():
        dirs = split_dirs(out, split, TASKS)
        for name in names:
            jpg = osp.join(images, name + '.jpg')
            width, height = open_image(jpg, 'Pascal image').size
            objects = read_annotation(annotations[name], (height, width))
            obj_map, part_map = convert_image(objects,
                                              (height, width), lut, part_index,
                                              len(classes), num_parts)
            paths = sample_paths(dirs, name)
            shutil.copyfile(jpg, paths['img'])
            write_label_map(paths['object'], obj_map)
            write_label_map(paths['part'], part_map)
        log(f'{split}: {len(names)} images')
    metainfo = dict(classes=classes, part_classes=part_classes)
    write_metainfo(out, metainfo)
    write_source_json(out, TASKS)
    return dict(
        metainfo=metainfo,
        counts={
            split: len(n)
            for split, n in splits.items()
        })
