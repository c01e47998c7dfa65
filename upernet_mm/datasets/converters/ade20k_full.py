"""The full ADE20K release (objects, parts, scenes) into a source folder of
the unified parsing layout.

Reads the release as its maintainers publish it, image by image
(``images/ADE/SPLIT/**/NAME.jpg`` with, beside it, ``NAME_seg.png``,
``NAME_parts_1.png`` where the image has parts, and ``NAME.json``); never
the pickled index (``index_ade20k.pkl``), which no converter may unpickle.

* Objects: ``NAME_seg.png`` codes the full release's object class of a
  pixel as ``R // 10 * 256 + G`` (0 = unlabelled); that index is the
  ``name_ndx`` of the image's objects in ``NAME.json``, whose ``name`` (a
  WordNet synset, e.g. ``'car, auto, automobile, machine, motorcar'``) is
  matched to the class list: the same synonyms (in any order), or else the
  same first synonym. Pixels of other classes are "not labelled".
* Parts: ``NAME_parts_1.png`` codes the first level of parts the same way;
  ``parts.part_level`` (1) and ``parts.ispartof`` (the ``id`` of the whole)
  of ``NAME.json`` tell which object class each part belongs to. As in the
  authors' data loader, the part labels of an object class are valid in an
  image only if one of its listed parts is annotated there: then every
  pixel of that class gets its part's index (0 = ``'other'``), else the
  class's pixels are "not labelled" in the part map.
* Scene: the last entry of ``annotation.scene`` (``['outdoor', 'urban',
  'street']`` -> ``street``); ``null`` (not labelled) if it is not in the
  scene list.

Every file is treated as hostile: JSON size and field types, image and
label sizes and modes, file names, are checked, and a bad file is an error
naming it and the value at fault.
"""
import os
import os.path as osp
import shutil
from collections import Counter

import numpy as np
from mmseg.datasets import ADE20KDataset

from ..unified_parsing_layout import SPLITS, UnifiedParsingDataError, read_json
from ..unified_parsing_writer import (empty_label_map, new_source_dir,
                                      sample_paths, split_dirs,
                                      write_image_labels, write_label_map,
                                      write_metainfo, write_source_json)
from .ade20k150_names import ADE20K150_WORDNET_NAMES
from .common import (OTHER, SAFE_STEM, check_part_classes, derive_part_classes,
                     open_image, part_indices, shown)

TASKS = ('object', 'part', 'scene')
# the largest class index the RGB coding can hold (R // 10 * 256 + G)
MAX_CODE = 255 // 10 * 256 + 255


def synonyms(name):
    """The synonyms of a WordNet name, ``'a, b'`` -> ``('a', 'b')``."""
    return tuple(s.strip() for s in name.split(',') if s.strip())


class ObjectMatcher:
    """Matches the full release's object names to a class list.

    Args:
        names (dict): Class name -> WordNet name(s) it covers (a string
            or a list of strings), in class order.
    """

    def __init__(self, names):
        self.classes = tuple(names)
        self.exact, self.first = {}, {}
        for index, (name, wordnet) in enumerate(names.items()):
            for full in [wordnet] if isinstance(wordnet, str) else wordnet:
                syn = synonyms(full)
                if not syn:
                    raise ValueError(f'object class {name!r} has an empty '
                                     'WordNet name')
                self.exact[frozenset(syn)] = index
                self.first.setdefault(syn[0], index)

    def __call__(self, name):
        """Class index of a full-release object name, or None."""
        syn = synonyms(name)
        if not syn:
            return None
        index = self.exact.get(frozenset(syn))
        return self.first.get(syn[0]) if index is None else index


def default_object_names():
    """The ADE20K-150 classes: mmseg's short names -> WordNet names."""
    short = [name.strip() for name in ADE20KDataset.METAINFO['classes']]
    if len(short) != len(ADE20K150_WORDNET_NAMES):
        raise RuntimeError(f'mmseg lists {len(short)} ADE20K classes, not '
                           f'{len(ADE20K150_WORDNET_NAMES)}')
    return dict(zip(short, ADE20K150_WORDNET_NAMES)), [
        list(colour) for colour in ADE20KDataset.METAINFO['palette']
    ]


# ----------------------------------------------------------------- reading


def find_split_dirs(root):
    """``images/ADE/SPLIT`` folders under ``root`` (the release folder, or
    a folder up to two levels above it).

    Returns:
        dict: Split name -> folder, for the splits present.
    """
    if not osp.isdir(root):
        raise UnifiedParsingDataError(f'ADE20K root {root} is not a folder')
    candidates = [root]
    for _ in range(3):  # root and two levels below
        found = {}
        for base in candidates:
            for split in SPLITS:
                folder = osp.join(base, 'images', 'ADE', split)
                if osp.isdir(folder):
                    found.setdefault(split, folder)
        if found:
            return found
        candidates = [
            osp.join(base, name) for base in candidates
            for name in sorted(os.listdir(base))
            if osp.isdir(osp.join(base, name))
        ]
    raise UnifiedParsingDataError(
        f'no images/ADE/training or images/ADE/validation folder in or '
        f'below {root}: give the folder of the full ADE20K release (e.g. '
        'ADE20K_2021_17_01)')


def list_images(split_dir):
    """Stems and ``.jpg`` paths of a split, sorted by stem; the label files
    are found beside each image. Symlinked folders are not followed."""
    found = {}
    for folder, dirs, files in os.walk(split_dir):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith('.jpg'):
                continue
            stem = name[:-len('.jpg')]
            path = osp.join(folder, name)
            if not SAFE_STEM.match(stem):
                raise UnifiedParsingDataError(
                    f'image {path}: its name is not a plain file name '
                    '(letters, digits, "_", "-", ".")')
            if stem in found:
                raise UnifiedParsingDataError(
                    f'two images named {name} in {split_dir}: '
                    f'{found[stem]} and {path}')
            found[stem] = path
    return sorted(found.items())


def _int(value, what, path):
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnifiedParsingDataError(
            f'{path}: {what} must be an integer, got {shown(value)}')
    return value


def read_annotation(path):
    """The scene and objects of an image's ``.json``.

    Returns:
        dict: ``scene`` (str or None) and ``objects``: list of dicts with
        ``id``, ``name``, ``name_ndx``, ``level`` and ``ispartof`` (id of
        the whole, None for level 0).

    Raises:
        UnifiedParsingDataError: Naming the file and the field at fault.
    """
    data = read_json(path, 'ADE20K annotation')
    annotation = data.get('annotation') if isinstance(data, dict) else None
    if not isinstance(annotation, dict):
        raise UnifiedParsingDataError(
            f'{path} has no "annotation" object (an ADE20K image .json)')
    scene = annotation.get('scene', [])
    if not isinstance(scene, list) or not all(
            isinstance(s, str) for s in scene):
        raise UnifiedParsingDataError(
            f'{path}: annotation.scene must be a list of names, got '
            f'{shown(scene)}')
    raw = annotation.get('object', [])
    if not isinstance(raw, list):
        raise UnifiedParsingDataError(
            f'{path}: annotation.object must be a list, got '
            f'{shown(raw)}')
    objects = []
    for i, obj in enumerate(raw):
        where = f'annotation.object[{i}]'
        if not isinstance(obj, dict) or not isinstance(obj.get('name'), str):
            raise UnifiedParsingDataError(
                f'{path}: {where} must be an object with a string "name", '
                f'got {shown(obj)}')
        parts = obj.get('parts')
        if not isinstance(parts, dict):
            raise UnifiedParsingDataError(
                f'{path}: {where}.parts must be an object, got '
                f'{shown(parts)}')
        level = _int(
            parts.get('part_level'), f'{where}.parts.part_level', path)
        ndx = _int(obj.get('name_ndx'), f'{where}.name_ndx', path)
        if not 0 < ndx <= MAX_CODE:
            raise UnifiedParsingDataError(
                f'{path}: {where}.name_ndx {ndx} is not a class index of '
                f'the label maps (1-{MAX_CODE})')
        whole = parts.get('ispartof')
        if level == 0 or whole == []:
            whole = None
        else:
            whole = _int(whole, f'{where}.parts.ispartof', path)
        objects.append(
            dict(
                id=_int(obj.get('id'), f'{where}.id', path),
                name=obj['name'],
                name_ndx=ndx,
                level=level,
                ispartof=whole))
    return dict(scene=scene[-1] if scene else None, objects=objects)


def decode_class_map(path, size):
    """The class index map of an ADE20K ``_seg.png`` or ``_parts_N.png``:
    ``R // 10 * 256 + G`` (int32), checked to be an RGB PNG of ``size``."""
    image = open_image(path, 'ADE20K label map', size)
    if image.format != 'PNG' or image.mode not in ('RGB', 'RGBA'):
        raise UnifiedParsingDataError(
            f'ADE20K label map {path} must be an RGB PNG, got '
            f'{image.format} in mode {image.mode}')
    try:
        rgb = np.asarray(image.convert('RGB'))
    except (OSError, ValueError) as e:
        raise UnifiedParsingDataError(
            f'ADE20K label map {path} cannot be decoded ({e})') from e
    return (rgb[..., 0].astype(np.int32) // 10) * 256 + rgb[..., 1]


def annotation_paths(jpg):
    """The ``.json``, ``_seg.png`` and ``_parts_1.png`` beside an image."""
    base = jpg[:-len('.jpg')]
    return dict(
        json=base + '.json',
        seg=base + '_seg.png',
        parts=base + '_parts_1.png')


# ----------------------------------------------------------- class lists


def part_name(name):
    """The part class name of a full-release part: its first synonym."""
    syn = synonyms(name)
    return syn[0] if syn else None


def image_part_pairs(objects, match):
    """(object class index, object name_ndx, part name, part name_ndx) of
    the image's first-level parts whose whole is in the class list."""
    by_id = {obj['id']: obj for obj in objects if obj['level'] == 0}
    pairs = set()
    for obj in objects:
        if obj['level'] != 1 or obj['ispartof'] not in by_id:
            continue
        whole = by_id[obj['ispartof']]
        index = match(whole['name'])
        name = part_name(obj['name'])
        if index is not None and name and name != OTHER:
            pairs.add((index, whole['name_ndx'], name, obj['name_ndx']))
    return pairs


def survey(images, match):
    """Count, over images, in how many each (object class, part) pair and
    each scene occurs.

    Returns:
        tuple[Counter, Counter]: (object index, part name) -> images;
        scene -> images.
    """
    parts, scenes = Counter(), Counter()
    for _, jpg in images:
        ann = read_annotation(annotation_paths(jpg)['json'])
        if ann['scene']:
            scenes[ann['scene']] += 1
        parts.update({
            (index, name)
            for index, _, name, _ in image_part_pairs(ann['objects'], match)
        })
    return parts, scenes


# -------------------------------------------------------------- converting


def convert_image(jpg, match, part_index, num_classes, num_parts, scenes):
    """The label maps and scene of one image.

    Args:
        jpg (str): The image.
        match (ObjectMatcher): Object names -> class index.
        part_index (dict): Object class index -> {part name: index}.
        num_classes (int): Object classes (sets the object map's depth).
        num_parts (int): Most parts of an object (the part map's depth).
        scenes (set): Scene names of the list.

    Returns:
        dict: ``object`` and ``part`` maps, ``scene`` (name or None),
        ``unknown`` (pixels of a class the .json does not name).
    """
    paths = annotation_paths(jpg)
    size = open_image(jpg, 'image').size
    ann = read_annotation(paths['json'])
    classes = decode_class_map(paths['seg'], size)
    lut = np.full(MAX_CODE + 1, -1, np.int32)
    named = np.zeros(MAX_CODE + 1, bool)
    for obj in ann['objects']:
        if obj['level'] == 0:
            named[obj['name_ndx']] = True
            index = match(obj['name'])
            if index is not None:
                lut[obj['name_ndx']] = index
    named[0] = True
    unknown = int((~named[classes]).sum())
    ids = lut[classes]
    obj_map = empty_label_map(classes.shape, num_classes)
    obj_map[ids >= 0] = ids[ids >= 0]
    part_map = empty_label_map(classes.shape, num_parts)
    pairs = [(i, o, part_index[i][p], q)
             for i, o, p, q in image_part_pairs(ann['objects'], match)
             if p in part_index.get(i, {})]
    if pairs:
        part_classes = decode_class_map(paths['parts'], size)
        for index in sorted({pair[0] for pair in pairs}):
            part_map[ids == index] = 0
        for index, obj_ndx, part, part_ndx in pairs:
            part_map[(classes == obj_ndx) & (part_classes == part_ndx) &
                     (ids == index)] = part
    scene = ann['scene'] if ann['scene'] in scenes else None
    return dict(object=obj_map, part=part_map, scene=scene, unknown=unknown)


def convert_ade20k_full(root,
                        out,
                        object_names=None,
                        part_classes=None,
                        scene_classes=None,
                        min_part_images=1,
                        min_scene_images=1,
                        log=print):
    """Convert the full ADE20K release at ``root`` into the source folder
    ``out`` (tasks object, part, scene) with its ``metainfo.json``.

    Args:
        root (str): The release folder (holding ``images/ADE``).
        out (str): The source folder to create (missing or empty).
        object_names (dict, optional): Object class name -> WordNet name(s)
            of the full release it covers. Default: the ADE20K-150 classes.
        part_classes (dict, optional): Object class -> part names (the
            first synonym of the parts' names). Default: the parts of each
            object annotated in at least ``min_part_images`` training
            images.
        scene_classes (list, optional): Scene names. Default: the scenes of
            at least ``min_scene_images`` training images, sorted.
        min_part_images (int): See ``part_classes``. Default: 1.
        min_scene_images (int): See ``scene_classes``. Default: 1.
        log (callable): Progress messages.

    Returns:
        dict: The metainfo written and, per split, the number of images.
    """
    split_dirs_found = find_split_dirs(root)
    images = {
        split: list_images(folder)
        for split, folder in split_dirs_found.items()
    }
    metainfo = {}
    if object_names is None:
        object_names, palette = default_object_names()
        metainfo['palette'] = palette
    match = ObjectMatcher(object_names)
    classes = list(match.classes)
    metainfo['classes'] = classes
    if part_classes is None or scene_classes is None:
        part_counts, scene_counts = survey(images.get('training', []), match)
    if part_classes is None:
        part_classes = derive_part_classes(part_counts, classes,
                                           min_part_images)
    else:
        part_classes = check_part_classes(part_classes, classes)
    if scene_classes is None:
        scene_classes = sorted(s for s, n in scene_counts.items()
                               if n >= min_scene_images)
    metainfo['part_classes'] = part_classes
    metainfo['scene_classes'] = list(scene_classes)
    part_index, num_parts = part_indices(part_classes, classes)
    new_source_dir(out)
    counts, unknown = {}, 0
    for split, split_images in images.items():
        dirs = split_dirs(out, split, ('object', 'part'))
        labels = {}
        for stem, jpg in split_images:
            sample = convert_image(jpg, match, part_index, len(classes),
                                   num_parts, set(scene_classes))
            paths = sample_paths(dirs, stem)
            shutil.copyfile(jpg, paths['img'])
            write_label_map(paths['object'], sample['object'])
            write_label_map(paths['part'], sample['part'])
            labels[stem] = dict(scene=sample['scene'])
            unknown += sample['unknown']
        write_image_labels(out, split, labels)
        counts[split] = len(split_images)
        log(f'{split}: {len(split_images)} images')
    if unknown:
        log(f'{unknown} pixels had an object class that their image\'s '
            '.json does not name: written as not labelled')
    write_metainfo(out, metainfo)
    write_source_json(out, TASKS)
    return dict(metainfo=metainfo, counts=counts)
