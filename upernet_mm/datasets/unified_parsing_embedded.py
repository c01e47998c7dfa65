"""The embedded Unified Perceptual Parsing data: generated once,
atomically, into the layout of ``unified_parsing_layout``, and checked
against its manifest.

Three sources, as Broden+ mixes ADE20K, OpenSurfaces and DTD, made by
:func:`write_unified_parsing` from the SyntheticScenes generator:
``scenes`` (object, part, scene: the scene categories of ``SCENE_CLASSES``
in turn), ``materials`` (material only, on other images of the same
generator) and ``textures`` (image-level texture only, images of
``unified_parsing_textures``). Every object with parts has them drawn, so
its part maps have no "parts not annotated" pixels.
"""
import json
import os
import os.path as osp

import numpy as np

from .generated_folder import (file_problems, generate_once,
                               incomplete_message, regenerate_hint,
                               write_atomically)
from .synthetic_scenes_generator import MIN_SIZE, render_layered_scene
from .unified_parsing_classes import (IMAGE_TASKS, PIXEL_TASKS, SCENE_CLASSES,
                                      TEXTURE_CLASSES)
from .unified_parsing_layout import (IMG_DIR, IMG_SUFFIX, LABELS_DIR,
                                     SEG_MAP_SUFFIX, SPLITS,
                                     UnifiedParsingDataError, read_json)
from .unified_parsing_textures import render_texture
from .unified_parsing_writer import (sample_paths, split_dirs, write_image,
                                     write_image_labels, write_label_map,
                                     write_source_json)

MANIFEST = 'unified_parsing.json'
FORMAT_VERSION = 1
WHAT = 'unified parsing'  # the data's name in messages

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


class UnifiedParsingFolderError(RuntimeError):
    """Generated unified parsing data that is incomplete or inconsistent."""


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
        return dict(
            img=render_texture(rng, texture, cfg['size']),
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


def _write_folder(folder, cfg):
    for source, tasks in EMBEDDED_SOURCES.items():
        source_dir = osp.join(folder, source)
        os.makedirs(source_dir)
        write_source_json(source_dir, tasks)
        pixel_tasks = tuple(t for t in tasks if t in PIXEL_TASKS)
        for split, counts in zip(SPLITS, (cfg['num_train'], cfg['num_val'])):
            num = counts[source]
            if num == 0:
                continue
            dirs = split_dirs(source_dir, split, pixel_tasks)
            labels = {}
            for index in range(num):
                stem = f'{index:05d}'
                sample = render_sample(cfg, source, split, index)
                paths = sample_paths(dirs, stem)
                write_image(paths['img'], sample['img'])
                for task in pixel_tasks:
                    write_label_map(paths[task], sample[task])
                if sample['labels']:
                    labels[stem] = sample['labels']
            if labels:
                write_image_labels(source_dir, split, labels)
    manifest = dict(
        dataset='UnifiedParsing',
        format_version=FORMAT_VERSION,
        generator=cfg,
        sources={
            source:
            dict(
                tasks=list(tasks),
                splits=dict(
                    zip(SPLITS,
                        (cfg['num_train'][source], cfg['num_val'][source]))))
            for source, tasks in EMBEDDED_SOURCES.items()
        })
    with open(osp.join(folder, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest


def write_unified_parsing(root, generator_cfg=None):
    """Generate the embedded unified parsing data into ``root``, which must
    be missing or an empty folder, atomically (see
    :func:`.generated_folder.write_atomically`: if another process put a
    folder at ``root`` in the meantime, its folder is kept and
    ``FileExistsError`` is raised).

    Args:
        root (str): Folder to create.
        generator_cfg (dict, optional): See :func:`check_generator_cfg`.

    Returns:
        dict: The manifest written to ``root/unified_parsing.json``.
    """
    cfg = check_generator_cfg(generator_cfg)
    return write_atomically(root, lambda folder: _write_folder(folder, cfg),
                            WHAT)


def check_generated_folder(root):
    """Check that a generated folder (one with ``unified_parsing.json``)
    holds every file its manifest promises.

    Returns:
        dict: The manifest.

    Raises:
        UnifiedParsingFolderError: Naming what is missing.
    """
    hint = regenerate_hint(root)
    path = osp.join(root, MANIFEST)
    try:
        manifest = read_json(path, 'manifest')
        sources = {
            name: (tuple(entry['tasks']), {
                split: int(entry['splits'][split])
                for split in SPLITS
            })
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
            folders = [(osp.join(root, name, IMG_DIR, split), IMG_SUFFIX)
                       ] + [(osp.join(root, name, task, split), SEG_MAP_SUFFIX)
                            for task in tasks if task in PIXEL_TASKS]
            for folder, suffix in folders:
                problems += file_problems(folder, [s + suffix for s in stems],
                                          suffix)
            if any(task in IMAGE_TASKS for task in tasks):
                labels = osp.join(root, name, LABELS_DIR, split + '.json')
                if not osp.isfile(labels):
                    problems.append(f'{labels} is missing')
    if problems:
        raise UnifiedParsingFolderError(
            incomplete_message(root, problems, MANIFEST, WHAT))
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
    generated = generate_once(root, lambda folder: _write_folder(folder, cfg),
                              WHAT)
    if not osp.isfile(osp.join(root, MANIFEST)):
        return None, generated
    return check_generated_folder(root), generated
