"""The on-disk layout of Unified Perceptual Parsing data: reading any data
written in it (with errors naming the file and the value at fault), and
generating the embedded data once, atomically.

Layout::

    ROOT/
      unified_parsing.json           # only in generated data: how it was
                                     # made, written last
      SOURCE/                        # one folder per data source
        source.json                  # {"tasks": ["object", "part", "scene"]}
        images/SPLIT/STEM.jpg        # SPLIT: training, validation
        object/SPLIT/STEM.png        # uint8 object class ids, 255 = none
        part/SPLIT/STEM.png          # uint8 part index within the pixel's
                                     # object (0 = object pixel without part
                                     # label), 255 = none
        material/SPLIT/STEM.png      # uint8 material ids, 255 = none
        labels/SPLIT.json            # {"STEM": {"scene": "street"}} or
                                     # {"STEM": {"texture": "dotted"}}

A source labels the tasks its ``source.json`` lists, and every one of them
for every image of a split: a folder per pixel task (``object``, ``part``,
``material``) and, for the image-level tasks (``scene``, ``texture``), an
entry per image in ``labels/SPLIT.json`` holding the class name. A source
without ``images/SPLIT`` has no data for that split. ``part`` needs
``object`` (a part index means something only inside its object).
``source.json`` may also give ``img_suffix`` (default ``.jpg``).

The embedded data (three sources, as Broden+ mixes ADE20K, OpenSurfaces and
DTD) is made by :func:`write_unified_parsing` from the SyntheticScenes
generator: ``scenes`` (object, part, scene: the scene categories of
``SCENE_CLASSES`` in turn), ``materials`` (material only, on other images of
the same generator) and ``textures`` (image-level texture only, images of
``unified_parsing_textures``).
"""
import errno
import json
import os
import os.path as osp
import shutil
import tempfile

import cv2
import numpy as np

from .synthetic_scenes_generator import MIN_SIZE, render_layered_scene
from .unified_parsing_classes import (IMAGE_TASKS, PIXEL_TASKS,
                                      SCENE_CLASSES, TASKS, TEXTURE_CLASSES)
from .unified_parsing_textures import render_texture

MANIFEST = 'unified_parsing.json'
SOURCE_FILE = 'source.json'
FORMAT_VERSION = 1
SPLITS = ('training', 'validation')
IMG_DIR, LABELS_DIR = 'images', 'labels'
IMG_SUFFIX, SEG_MAP_SUFFIX = '.jpg', '.png'
IMG_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
JPEG_QUALITY = 90
MAX_JSON_BYTES = 64 << 20

# The embedded sources: name -> tasks (the order of the sources is the
# order of their folders).
EMBEDDED_SOURCES = {
    'materials': ('material', ),
    'scenes': ('object', 'part', 'scene'),
    'textures': ('texture', ),
}
DEFAULT_GENERATOR_CFG = dict(
    seed=0,
    size=128,
    num_train=dict(scenes=400, materials=300, textures=180),
    num_val=dict(scenes=100, materials=60, textures=45))


class UnifiedParsingDataError(ValueError):
    """Data in the unified parsing layout that would fail training or give
    wrong results: the message names the file and the value."""


class UnifiedParsingFolderError(RuntimeError):
    """Generated unified parsing data that is incomplete or inconsistent."""


# ------------------------------------------------------------------ reading


def _read_json(path, what):
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
    info = _read_json(path, 'source description')
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
    return sorted(name for name in os.listdir(root)
                  if osp.isfile(osp.join(root, name, SOURCE_FILE)))


def _some(names, limit=3):
    names = sorted(names)
    more = f' and {len(names) - limit} more' if len(names) > limit else ''
    return ', '.join(names[:limit]) + more


def read_image_labels(path, stems, tasks, class_lists):
    """Read ``labels/SPLIT.json`` and return, per stem, the class index of
    each image-level task in ``tasks``.

    Args:
        path (str): The labels file.
        stems (list[str]): Images of the split.
        tasks (tuple[str]): The image-level tasks the source claims.
        class_lists (dict): Task -> tuple of class names.

    Returns:
        dict: stem -> {task: class index}.

    Raises:
        UnifiedParsingDataError: Naming the file, the image and the value.
    """
    if not osp.isfile(path):
        raise UnifiedParsingDataError(
            f'{path} does not exist, but the source claims the image-level '
            f'task(s) {list(tasks)} in its {SOURCE_FILE}')
    labels = _read_json(path, 'image-level labels')
    if not isinstance(labels, dict):
        raise UnifiedParsingDataError(
            f'{path} must hold an object {{"STEM": {{"scene": NAME}}, ...}},'
            f' got {type(labels).__name__}')
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
            classes = class_lists[task]
            if not isinstance(name, str) or name not in classes:
                shown = repr(name)
                shown = shown if len(shown) <= 80 else shown[:77] + '...'
                raise UnifiedParsingDataError(
                    f'{path}: image {stem} has {task} {shown}, which is not '
                    f'in the {task} class list {list(classes)}')
            result[stem][task] = classes.index(name)
    if missing:
        raise UnifiedParsingDataError(
            f'{path} lacks the {"/".join(tasks)} label of {len(missing)} of '
            f'{len(stems)} images ({_some(missing)}), which the source '
            f'claims in its {SOURCE_FILE}')
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
        missing = [stem + SEG_MAP_SUFFIX for stem in stems
                   if not osp.isfile(osp.join(folder, stem + SEG_MAP_SUFFIX))]
        if missing:
            raise UnifiedParsingDataError(
                f'source {source_dir} claims the task {task!r} but {folder} '
                f'lacks the label maps of {len(missing)} of {len(stems)} '
                f'images ({_some(missing)})')
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
                osp.join(map_dirs[task], stem + SEG_MAP_SUFFIX)
                if task in map_dirs else None)
        for task, label in image_labels.get(stem, {}).items():
            sample[f'{task}_label'] = label
        samples.append(sample)
    return info, samples


# ----------------------------------------------------------------- writing


def check_generator_cfg(generator_cfg=None):
    """Complete and check generation settings.

    Args:
        generator_cfg (dict, optional): Any of ``seed`` (int >= 0), ``size``
            (int >= 64), ``num_train`` and ``num_val`` (dicts source name ->
            number of images, int >= 0, for some of the sources of
            ``EMBEDDED_SOURCES``; the others keep their defaults).

    Returns:
        dict: All settings.
    """
    cfg = json.loads(json.dumps(DEFAULT_GENERATOR_CFG))  # deep copy
    given = dict(generator_cfg or {})
    unknown = sorted(set(given) - set(cfg))
    if unknown:
        raise ValueError(f'unknown unified parsing generator settings '
                         f'{unknown}; known: {sorted(cfg)}')

    def check_int(name, value, low):
        if not isinstance(value, (int, np.integer)) or isinstance(
                value, bool) or value < low:
            raise ValueError(f'unified parsing generator setting {name} '
                             f'must be an integer >= {low}, got {value!r}')
        return int(value)

    for key, low in (('seed', 0), ('size', MIN_SIZE)):
        if key in given:
            cfg[key] = check_int(key, given[key], low)
    for key in ('num_train', 'num_val'):
        counts = given.get(key, {})
        if not isinstance(counts, dict):
            raise ValueError(f'unified parsing generator setting {key} must '
                             f'be a dict source -> count, got {counts!r}')
        for source, value in counts.items():
            if source not in EMBEDDED_SOURCES:
                raise ValueError(
                    f'unified parsing generator setting {key} names the '
                    f'source {source!r}; the embedded sources are '
                    f'{list(EMBEDDED_SOURCES)}')
            cfg[key][source] = check_int(f'{key}.{source}', value, 0)
    if not any(cfg['num_train'].values()):
        raise ValueError('unified parsing generator setting num_train '
                         'gives no training image at all')
    return cfg


def render_sample(cfg, source, split, index):
    """Render image ``index`` of a split of an embedded source; it depends
    on nothing else (not on the length of the split).

    Returns:
        dict: ``img`` (RGB uint8), the label maps of the source's pixel
        tasks by task name, and ``labels`` (image-level class names).
    """
    rng = np.random.default_rng([
        cfg['seed'],
        list(EMBEDDED_SOURCES).index(source),
        SPLITS.index(split), index
    ])
    if source == 'textures':
        texture = TEXTURE_CLASSES[index % len(TEXTURE_CLASSES)]
        return dict(img=render_texture(rng, texture, cfg['size']),
                    labels=dict(texture=texture))
    scene = SCENE_CLASSES[index % len(SCENE_CLASSES)]
    layers = render_layered_scene(rng, scene, cfg['size'])
    out = dict(img=layers['img'], labels={})
    for task in EMBEDDED_SOURCES[source]:
        if task in PIXEL_TASKS:
            out[task] = layers[task]
        else:
            out['labels'][task] = scene
    return out


def _encode(path, array, params):
    ok, data = cv2.imencode(osp.splitext(path)[1], array, params)
    if not ok:
        raise RuntimeError(f'OpenCV failed to encode {path}')
    with open(path, 'wb') as f:
        f.write(data.tobytes())


def _write_folder(folder, cfg):
    for source, tasks in EMBEDDED_SOURCES.items():
        source_dir = osp.join(folder, source)
        os.makedirs(source_dir)
        with open(osp.join(source_dir, SOURCE_FILE), 'w') as f:
            json.dump(dict(tasks=list(tasks), img_suffix=IMG_SUFFIX), f,
                      indent=2)
        for split, counts in zip(SPLITS, (cfg['num_train'], cfg['num_val'])):
            num = counts[source]
            if num == 0:
                continue
            for sub in (IMG_DIR, ) + tuple(t for t in tasks
                                           if t in PIXEL_TASKS):
                os.makedirs(osp.join(source_dir, sub, split))
            labels = {}
            for index in range(num):
                stem = f'{index:05d}'
                sample = render_sample(cfg, source, split, index)
                _encode(
                    osp.join(source_dir, IMG_DIR, split, stem + IMG_SUFFIX),
                    np.ascontiguousarray(sample['img'][..., ::-1]),
                    [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                for task in tasks:
                    if task in PIXEL_TASKS:
                        _encode(
                            osp.join(source_dir, task, split,
                                     stem + SEG_MAP_SUFFIX), sample[task],
                            [cv2.IMWRITE_PNG_COMPRESSION, 9])
                if sample['labels']:
                    labels[stem] = sample['labels']
            if labels:
                os.makedirs(osp.join(source_dir, LABELS_DIR), exist_ok=True)
                with open(osp.join(source_dir, LABELS_DIR, split + '.json'),
                          'w') as f:
                    json.dump(labels, f, indent=0, sort_keys=True)
    manifest = dict(
        dataset='UnifiedParsing',
        format_version=FORMAT_VERSION,
        generator=cfg,
        sources={
            source: dict(
                tasks=list(tasks),
                splits=dict(
                    zip(SPLITS, (cfg['num_train'][source],
                                 cfg['num_val'][source]))))
            for source, tasks in EMBEDDED_SOURCES.items()
        })
    with open(osp.join(folder, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest


def _is_empty_or_missing(root):
    if not osp.lexists(root):
        return True
    if not osp.isdir(root):
        raise NotADirectoryError(
            f'unified parsing data root {root} exists and is not a folder')
    return not os.listdir(root)


def write_unified_parsing(root, generator_cfg=None):
    """Generate the embedded unified parsing data into ``root``, which must
    be missing or an empty folder.

    The data is written to a temporary folder next to ``root`` and renamed
    to ``root`` at the end; if another process put a folder at ``root`` in
    the meantime, its folder is kept and ``FileExistsError`` is raised.

    Args:
        root (str): Folder to create.
        generator_cfg (dict, optional): See :func:`check_generator_cfg`.

    Returns:
        dict: The manifest written to ``root/unified_parsing.json``.
    """
    cfg = check_generator_cfg(generator_cfg)
    if not _is_empty_or_missing(root):
        raise FileExistsError(
            f'unified parsing data root {root} exists and is not empty; it '
            'is never written over (remove it to generate again)')
    target = osp.realpath(root)
    parent = osp.dirname(target)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(target)}.tmp-', dir=parent)
    try:
        manifest = _write_folder(tmp, cfg)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        try:
            os.rename(tmp, target)
        except OSError as e:
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise FileExistsError(
                    f'unified parsing data root {root} was created by '
                    'another process while generating; keeping that one'
                ) from e
            raise
    finally:
        if osp.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def check_generated_folder(root):
    """Check that a generated folder (one with ``unified_parsing.json``)
    holds every file its manifest promises.

    Returns:
        dict: The manifest.

    Raises:
        UnifiedParsingFolderError: Naming what is missing.
    """
    hint = (f'remove {root} to generate it again, or point data_root to '
            'another folder')
    path = osp.join(root, MANIFEST)
    try:
        manifest = _read_json(path, 'manifest')
        sources = {
            name: (tuple(entry['tasks']),
                   {split: int(entry['splits'][split]) for split in SPLITS})
            for name, entry in manifest['sources'].items()
        }
    except (UnifiedParsingDataError, KeyError, TypeError, ValueError,
            AttributeError) as e:
        raise UnifiedParsingFolderError(
            f'{path} is unreadable or lacks "sources" ({e!r}); {hint}') from e
    problems = []
    for name, (tasks, splits) in sources.items():
        for split, num in splits.items():
            if num == 0:
                continue
            stems = [f'{index:05d}' for index in range(num)]
            folders = [(osp.join(root, name, IMG_DIR, split), IMG_SUFFIX)] + [
                (osp.join(root, name, task, split), SEG_MAP_SUFFIX)
                for task in tasks if task in PIXEL_TASKS
            ]
            for folder, suffix in folders:
                if not osp.isdir(folder):
                    problems.append(f'folder {folder} is missing')
                    continue
                files = set(os.listdir(folder))
                missing = [s + suffix for s in stems
                           if s + suffix not in files]
                if missing:
                    problems.append(f'{folder} lacks {len(missing)} of {num} '
                                    f'files ({_some(missing)})')
            if any(task in IMAGE_TASKS for task in tasks):
                labels = osp.join(root, name, LABELS_DIR, split + '.json')
                if not osp.isfile(labels):
                    problems.append(f'{labels} is missing')
    if problems:
        raise UnifiedParsingFolderError(
            f'unified parsing folder {root} is incomplete or inconsistent '
            f'with its {MANIFEST}: ' + '; '.join(problems) + f'. {hint}')
    return manifest


def ensure_unified_parsing(root, generator_cfg=None):
    """Generate the embedded data into ``root`` if it is missing or empty;
    check it if it was generated (has ``unified_parsing.json``); leave other
    data (a user's, in the same layout) to the dataset's own checks.

    Returns:
        tuple[dict | None, bool]: The manifest (None for data that was not
        generated) and whether this call generated the data.
    """
    cfg = check_generator_cfg(generator_cfg)
    generated = False
    if _is_empty_or_missing(root):
        try:
            write_unified_parsing(root, cfg)
            generated = True
        except FileExistsError:
            if _is_empty_or_missing(root):
                raise
    if not osp.isfile(osp.join(root, MANIFEST)):
        return None, generated
    return check_generated_folder(root), generated
