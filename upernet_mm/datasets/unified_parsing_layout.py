"""The on-disk layout of Unified Perceptual Parsing data and reading it,
with errors naming the file and the value at fault.

Layout::

    ROOT/
      unified_parsing.json           # only in generated data: how it was
                                     # made, written last
      SOURCE/                        # one folder per data source
        source.json                  # {"tasks": ["object", "part", "scene"]}
        metainfo.json                # optional: the class lists the label
                                     # files index (written by converters)
        images/SPLIT/STEM.jpg        # SPLIT: training, validation
        object/SPLIT/STEM.png        # object class ids
        part/SPLIT/STEM.png          # part index within the pixel's object
        material/SPLIT/STEM.png      # material ids
        labels/SPLIT.json            # {"STEM": {"scene": "street"}} or
                                     # {"STEM": {"texture": "dotted"}};
                                     # null = this image not labelled

Label maps are single-channel PNGs, 8-bit (ids 0-254, 255 = not labelled)
or 16-bit (ids 0-65534, 65535 = not labelled), so that more than 254
classes (Broden+'s 335 objects) can be stored; a source may mix both. Part
maps hold, on the pixels of an object whose parts are annotated in that
image, the index of the pixel's part in its object's part list (0 =
``'other'``: a pixel of the object outside its annotated parts), and "not
labelled" everywhere else, also on the pixels of objects whose parts are
not annotated in that image (as the authors' data loader marks part labels
valid per image and object).

A source labels the tasks its ``source.json`` lists, and every one of them
for every image of a split: a folder per pixel task (``object``, ``part``,
``material``) and, for the image-level tasks (``scene``, ``texture``), an
entry per image in ``labels/SPLIT.json`` holding the class name. A source
without ``images/SPLIT`` has no data for that split. ``part`` needs
``object`` (a part index means something only inside its object).
``source.json`` may also give ``img_suffix`` (default ``.jpg``).
"""
import json
import os
import os.path as osp

import numpy as np

from .generated_folder import some_names
from .unified_parsing_classes import IMAGE_TASKS, PIXEL_TASKS, TASKS

SOURCE_FILE = 'source.json'
METAINFO_FILE = 'metainfo.json'
SPLITS = ('training', 'validation')
IMG_DIR, LABELS_DIR = 'images', 'labels'
IMG_SUFFIX, SEG_MAP_SUFFIX = '.jpg', '.png'
IMG_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
MAX_JSON_BYTES = 64 << 20
# label map dtype -> the value that means "not labelled" in its files
NOT_LABELLED = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}


class UnifiedParsingDataError(ValueError):
    """Data in the unified parsing layout that would fail training or give
    wrong results: the message names the file and the value."""


# ------------------------------------------------------- label map values


def label_map_dtype(num_ids):
    """The dtype of label files that store ids ``0 .. num_ids - 1`` and
    "not labelled": uint8 up to 255 ids, uint16 up to 65535."""
    for dtype, none in NOT_LABELLED.items():
        if num_ids <= none:
            return dtype
    raise UnifiedParsingDataError(
        f'{num_ids} classes do not fit a 16-bit label map (at most '
        f'{max(NOT_LABELLED.values())})')


def label_map_to_ids(seg, path, ignore_index=255):
    """The ids of a decoded label file, with its "not labelled" value (255
    in 8-bit files, 65535 in 16-bit ones) replaced by ``ignore_index``.

    Args:
        seg (np.ndarray): The decoded file (uint8 or uint16, 2-D; int32
            with values 0-65535 as Pillow decodes some 16-bit PNGs, in its
            mode ``I``, is taken as uint16).
        path (str): The file, for messages.
        ignore_index (int): The value that means "not labelled" in memory
            (the dataset's and the model's ``ignore_index``).

    Returns:
        np.ndarray: ``seg`` itself for an 8-bit file with ``ignore_index``
        255, else a uint16 copy.

    Raises:
        UnifiedParsingDataError: The file is not a single-channel 8- or
            16-bit map.
    """
    if seg is not None and seg.ndim == 2 and seg.dtype == np.int32 and \
            seg.size and 0 <= seg.min() and seg.max() <= 65535:
        seg = seg.astype(np.uint16)
    if seg is None or seg.ndim != 2 or seg.dtype not in NOT_LABELLED:
        shape = None if seg is None else (seg.shape, str(seg.dtype))
        raise UnifiedParsingDataError(
            f'label file {path} must be a single-channel 8-bit or 16-bit '
            f'PNG, got {shape}')
    none = NOT_LABELLED[seg.dtype]
    if none == ignore_index:
        return seg
    ids = seg.astype(np.uint16)
    ids[seg == none] = ignore_index
    return ids


# ------------------------------------------------------------------ reading


def read_json(path, what):
    """Read a JSON file of at most ``MAX_JSON_BYTES``; errors name it."""
    try:
        if osp.getsize(path) > MAX_JSON_BYTES:
            raise UnifiedParsingDataError(
                f'{what} {path} is larger than {MAX_JSON_BYTES} bytes')
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        if isinstance(e, UnifiedParsingDataError):
            raise
        raise UnifiedParsingDataError(
            f'{what} {path} cannot be read as JSON ({e})') from e


def read_source_json(source_dir):
    """Read and check ``SOURCE/source.json``.

    Args:
        source_dir (str): The source folder.

    Returns:
        dict: ``tasks`` (tuple in the order of ``TASKS``) and
        ``img_suffix``.

    Raises:
        UnifiedParsingDataError: Naming the file and the bad value.
    """
    path = osp.join(source_dir, SOURCE_FILE)
    if not osp.isfile(path):
        raise UnifiedParsingDataError(
            f'source folder {source_dir} has no {SOURCE_FILE} (it must list '
            f'the tasks the source labels, e.g. {{"tasks": ["material"]}})')
    info = read_json(path, 'source description')
    if not isinstance(info, dict) or not isinstance(info.get('tasks'), list):
        raise UnifiedParsingDataError(
            f'{path} must hold an object with a list "tasks" (a subset of '
            f'{list(TASKS)}), got {str(info)[:200]!r}')
    tasks = info['tasks']
    for task in tasks:
        if task not in TASKS:
            raise UnifiedParsingDataError(
                f'{path} lists the task {task!r}, which is not one of '
                f'{list(TASKS)}')
    if not tasks:
        raise UnifiedParsingDataError(f'{path} lists no task')
    if 'part' in tasks and 'object' not in tasks:
        raise UnifiedParsingDataError(
            f'{path} lists the task "part" without "object": part labels '
            'are indices within the object of each pixel, so a source with '
            'parts must also label objects')
    suffix = info.get('img_suffix', IMG_SUFFIX)
    if not isinstance(suffix, str) or suffix.lower() not in IMG_SUFFIXES:
        raise UnifiedParsingDataError(
            f'{path}: img_suffix must be one of {list(IMG_SUFFIXES)}, got '
            f'{suffix!r}')
    return dict(
        tasks=tuple(task for task in TASKS if task in tasks),
        img_suffix=suffix)


def find_sources(root):
    """Names of the source folders of ``root`` (sub-folders holding a
    ``source.json``), sorted."""
    if not osp.isdir(root):
        raise UnifiedParsingDataError(
            f'unified parsing data root {root} is not a folder')
    return sorted(
        name for name in os.listdir(root)
        if osp.isfile(osp.join(root, name, SOURCE_FILE)))


def read_image_labels(path, stems, tasks, class_lists):
    """Read ``labels/SPLIT.json`` and return, per stem, the class index of
    each image-level task in ``tasks``.

    Args:
        path (str): The labels file.
        stems (list[str]): Images of the split.
        tasks (tuple[str]): The image-level tasks the source claims.
        class_lists (dict): Task -> tuple of class names.

    Returns:
        dict: stem -> {task: class index}; -1 where the file gives
        ``null`` (this image has no label of that task, e.g. a scene
        category that is not in the class list).

    Raises:
        UnifiedParsingDataError: Naming the file, the image and the value.
    """
    if not osp.isfile(path):
        raise UnifiedParsingDataError(
            f'{path} does not exist, but the source claims the image-level '
            f'task(s) {list(tasks)} in its {SOURCE_FILE}')
    labels = read_json(path, 'image-level labels')
    if not isinstance(labels, dict):
        raise UnifiedParsingDataError(
            f'{path} must hold an object {{"STEM": {{"scene": NAME}}, ...}},'
            f' got {type(labels).__name__}')
    indices = {
        task: {
            name: i
            for i, name in enumerate(class_lists[task])
        }
        for task in tasks
    }
    result = {}
    missing = []
    for stem in stems:
        entry = labels.get(stem)
        if not isinstance(entry, dict) or any(t not in entry for t in tasks):
            missing.append(stem)
            continue
        result[stem] = {}
        for task in tasks:
            name = entry[task]
            index = indices[task].get(name) if isinstance(name, str) else \
                -1 if name is None else None
            if index is None:
                shown = repr(name)
                shown = shown if len(shown) <= 80 else shown[:77] + '...'
                names = list(class_lists[task])
                more = ', ...' if len(names) > 20 else ''
                raise UnifiedParsingDataError(
                    f'{path}: image {stem} has {task} {shown}, which is not '
                    f'in the {task} class list ({len(names)} classes: '
                    f'{", ".join(map(str, names[:20]))}{more}); null = not '
                    'labelled')
            result[stem][task] = index
    if missing:
        raise UnifiedParsingDataError(
            f'{path} lacks the {"/".join(tasks)} label of {len(missing)} of '
            f'{len(stems)} images ({some_names(missing)}), which the '
            f'source claims in its {SOURCE_FILE}')
    return result


def list_source_split(root, source, split, class_lists):
    """Samples of one source and split, with every file the source claims
    checked to exist (one ``stat`` per file, nothing decoded).

    Args:
        root (str): The data root.
        source (str): The source folder name.
        split (str): The split folder name (e.g. ``'training'``).
        class_lists (dict): ``scene`` and ``texture`` -> class names.

    Returns:
        tuple[dict, list[dict]]: The source description (see
        :func:`read_source_json`) and the samples, sorted by stem, with
        ``img_path``, ``object_map_path``, ``part_map_path``,
        ``material_map_path`` (None where not labelled), ``scene_label``,
        ``texture_label`` (-1 where not labelled), ``source``, ``tasks``.
        No samples if the source has no ``images/SPLIT``.

    Raises:
        UnifiedParsingDataError: A task's labels are missing.
    """
    source_dir = osp.join(root, source)
    info = read_source_json(source_dir)
    img_dir = osp.join(source_dir, IMG_DIR, split)
    if not osp.isdir(img_dir):
        return info, []
    suffix = info['img_suffix']
    stems = sorted(name[:-len(suffix)] for name in os.listdir(img_dir)
                   if name.endswith(suffix) and len(name) > len(suffix))
    tasks = info['tasks']
    map_dirs = {}
    for task in PIXEL_TASKS:
        if task not in tasks:
            continue
        folder = osp.join(source_dir, task, split)
        if not osp.isdir(folder):
            raise UnifiedParsingDataError(
                f'source {source_dir} claims the task {task!r} in its '
                f'{SOURCE_FILE} but has no folder {folder} for the '
                f'{len(stems)} images of {img_dir}')
        missing = [
            stem + SEG_MAP_SUFFIX for stem in stems
            if not osp.isfile(osp.join(folder, stem + SEG_MAP_SUFFIX))
        ]
        if missing:
            raise UnifiedParsingDataError(
                f'source {source_dir} claims the task {task!r} but {folder} '
                f'lacks the label maps of {len(missing)} of {len(stems)} '
                f'images ({some_names(missing)})')
        map_dirs[task] = folder
    image_tasks = tuple(task for task in IMAGE_TASKS if task in tasks)
    image_labels = {}
    if image_tasks and stems:
        image_labels = read_image_labels(
            osp.join(source_dir, LABELS_DIR, split + '.json'), stems,
            image_tasks, class_lists)
    samples = []
    for stem in stems:
        sample = dict(
            img_path=osp.join(img_dir, stem + suffix),
            source=source,
            tasks=tasks,
            scene_label=-1,
            texture_label=-1)
        for task in PIXEL_TASKS:
            sample[f'{task}_map_path'] = (
                osp.join(map_dirs[task], stem +
                         SEG_MAP_SUFFIX) if task in map_dirs else None)
        for task, label in image_labels.get(stem, {}).items():
            sample[f'{task}_label'] = label
        samples.append(sample)
    return info, samples


def read_metainfo_file(path):
    """Read class lists from a JSON file (a source's ``metainfo.json``, or
    ``--metainfo`` of the tools): an object with some of the keys of
    ``UnifiedParsingDataset.METAINFO``, checked by the dataset.

    Raises:
        UnifiedParsingDataError: Naming the file.
    """
    if not osp.isfile(path):
        raise UnifiedParsingDataError(f'class list file {path} does not '
                                      'exist')
    meta = read_json(path, 'class list file')
    if not isinstance(meta, dict):
        raise UnifiedParsingDataError(
            f'{path} must hold an object of class lists (keys as the '
            f"dataset's metainfo), got {type(meta).__name__}")
    return meta
