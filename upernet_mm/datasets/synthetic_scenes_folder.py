"""The SyntheticScenes folder on disk: writing it once, atomically, and
checking that it is complete.

Layout (ADE20K's)::

    ROOT/
      synthetic_scenes.json            # how it was made, written last
      images/{training,validation}/NNNNN.jpg
      annotations/{training,validation}/NNNNN.png   # uint8 class indices

ROOT is generated once and atomically (see :mod:`.generated_folder`): it is
either absent or complete, and never written over.
"""
import json
import os
import os.path as osp

import cv2
import numpy as np

from .generated_folder import (file_problems, generate_once,
                               incomplete_message, regenerate_hint,
                               write_atomically)
from .synthetic_scenes_classes import CLASSES, PALETTE
from .synthetic_scenes_generator import MIN_SIZE, SCENE_KINDS, render_scene

MANIFEST = 'synthetic_scenes.json'
FORMAT_VERSION = 1
SPLITS = ('training', 'validation')
IMG_DIR, ANN_DIR = 'images', 'annotations'
IMG_SUFFIX, SEG_MAP_SUFFIX = '.jpg', '.png'
JPEG_QUALITY = 90
DEFAULT_GENERATOR_CFG = dict(seed=0, num_train=400, num_val=100, size=128)
# Optional settings: left out of the completed settings (and manifests) when
# they have their default, so folders made before they existed still match.
OPTIONAL_GENERATOR_CFG = dict(far_context=False)


class SyntheticScenesFolderError(RuntimeError):
    """A SyntheticScenes folder exists but is incomplete or inconsistent."""


def check_generator_cfg(generator_cfg=None):
    """Complete and check generation settings.

    Args:
        generator_cfg (dict, optional): Any of ``seed`` (int >= 0),
            ``num_train`` and ``num_val`` (int >= 1), ``size`` (int >=
            64, image height and width) and ``far_context`` (bool, see
            :func:`render_scene`). Missing keys take the defaults
            ``seed=0, num_train=400, num_val=100, size=128,
            far_context=False``.

    Returns:
        dict: The four settings, and ``far_context`` when it is True.
    """
    cfg = dict(DEFAULT_GENERATOR_CFG)
    given = dict(generator_cfg or {})
    known = set(cfg) | set(OPTIONAL_GENERATOR_CFG)
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f'unknown SyntheticScenes generator settings '
                         f'{unknown}; known: {sorted(known)}')
    far = given.pop('far_context', False)
    if not isinstance(far, (bool, np.bool_)):
        raise ValueError('SyntheticScenes generator setting far_context '
                         f'must be True or False, got {far!r}')
    cfg.update(given)
    minimum = dict(seed=0, num_train=1, num_val=1, size=MIN_SIZE)
    for key, low in minimum.items():
        value = cfg[key]
        is_int = isinstance(value,
                            (int, np.integer)) and not isinstance(value, bool)
        if not is_int or value < low:
            raise ValueError(f'SyntheticScenes generator setting {key} must '
                             f'be an integer >= {low}, got {value!r}')
        cfg[key] = int(value)
    if far:
        cfg['far_context'] = True
    return cfg


def scene_names(num):
    """File stems of a split with ``num`` scenes: ``00000``, ``00001``..."""
    return [f'{index:05d}' for index in range(num)]


def render_split_scene(seed, split, index, size, far_context=False):
    """Render scene ``index`` of ``split``; it depends on nothing else, so a
    split's first scenes do not change with its length.

    Args:
        seed (int): Seed of the whole dataset.
        split (str): ``'training'`` or ``'validation'``.
        index (int): Index of the scene in the split; even indices are
            street scenes, odd ones rooms.
        size (int): Image height and width.
        far_context (bool): See :func:`render_scene`. Default: False.

    Returns:
        tuple[np.ndarray, np.ndarray]: RGB image and label map.
    """
    rng = np.random.default_rng([seed, SPLITS.index(split), index])
    return render_scene(rng, SCENE_KINDS[index % 2], size, far_context)


def _write_folder(folder, cfg):
    for split, num in zip(SPLITS, (cfg['num_train'], cfg['num_val'])):
        img_dir = osp.join(folder, IMG_DIR, split)
        ann_dir = osp.join(folder, ANN_DIR, split)
        os.makedirs(img_dir)
        os.makedirs(ann_dir)
        for index, name in enumerate(scene_names(num)):
            img, label = render_split_scene(cfg['seed'], split, index,
                                            cfg['size'],
                                            cfg.get('far_context', False))
            ok_img, jpg = cv2.imencode(
                IMG_SUFFIX, np.ascontiguousarray(img[..., ::-1]),
                [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            ok_ann, png = cv2.imencode(SEG_MAP_SUFFIX, label,
                                       [cv2.IMWRITE_PNG_COMPRESSION, 9])
            if not (ok_img and ok_ann):
                raise RuntimeError(f'OpenCV failed to encode scene {name} '
                                   f'of {split}')
            with open(osp.join(img_dir, name + IMG_SUFFIX), 'wb') as f:
                f.write(jpg.tobytes())
            with open(osp.join(ann_dir, name + SEG_MAP_SUFFIX), 'wb') as f:
                f.write(png.tobytes())
    manifest = dict(
        dataset='SyntheticScenes',
        format_version=FORMAT_VERSION,
        generator=cfg,
        splits=dict(zip(SPLITS, (cfg['num_train'], cfg['num_val']))),
        img_suffix=IMG_SUFFIX,
        seg_map_suffix=SEG_MAP_SUFFIX,
        classes=list(CLASSES),
        palette=PALETTE)
    with open(osp.join(folder, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest


def write_synthetic_scenes(root, **generator_cfg):
    """Generate SyntheticScenes into ``root``, which must be missing or an
    empty folder.

    The scenes are written to a temporary folder next to ``root`` and renamed
    to ``root`` at the end. If another process put a folder at ``root`` in
    the meantime, its folder is kept and ``FileExistsError`` is raised.

    Args:
        root (str): Folder to create.
        **generator_cfg: ``seed``, ``num_train``, ``num_val``, ``size``,
            ``far_context``; see
            :func:`check_generator_cfg`.

    Returns:
        dict: The manifest written to ``root/synthetic_scenes.json``.
    """
    cfg = check_generator_cfg(generator_cfg)
    return write_atomically(root, lambda folder: _write_folder(folder, cfg),
                            'SyntheticScenes')


def check_synthetic_scenes(root):
    """Check that ``root`` holds a complete SyntheticScenes folder.

    Args:
        root (str): The data root.

    Returns:
        dict: Its manifest.

    Raises:
        SyntheticScenesFolderError: Naming the folder and what is missing,
            unexpected or empty.
    """
    hint = regenerate_hint(root)
    if not osp.isdir(root):
        raise SyntheticScenesFolderError(
            f'SyntheticScenes data root {root} does not exist')
    manifest_path = osp.join(root, MANIFEST)
    if not osp.isfile(manifest_path):
        raise SyntheticScenesFolderError(
            f'{root} exists but has no {MANIFEST}: it is not a complete '
            f'SyntheticScenes folder (generation writes that file last); '
            f'{hint}')
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
        splits = {split: int(manifest['splits'][split]) for split in SPLITS}
        classes = tuple(manifest['classes'])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SyntheticScenesFolderError(
            f'{manifest_path} is unreadable or lacks "splits"/"classes" '
            f'({e!r}); {hint}') from e
    if classes != CLASSES:
        raise SyntheticScenesFolderError(
            f'{root} was generated with classes {list(classes)}, but '
            f'SyntheticScenes now has {list(CLASSES)}; {hint}')
    problems = []
    for split, num in splits.items():
        for sub, suffix in ((IMG_DIR, IMG_SUFFIX), (ANN_DIR, SEG_MAP_SUFFIX)):
            problems += file_problems(
                osp.join(root, sub, split),
                [name + suffix for name in scene_names(num)], suffix)
    if problems:
        raise SyntheticScenesFolderError(
            incomplete_message(root, problems, MANIFEST, 'SyntheticScenes'))
    return manifest


def ensure_synthetic_scenes(root, generator_cfg=None):
    """Generate SyntheticScenes into ``root`` if it is missing or empty, then
    check it.

    Safe when several processes call it at once: each generates into its own
    temporary folder and all but the first rename keep the first result.

    Args:
        root (str): The data root.
        generator_cfg (dict, optional): Settings used only if ``root`` is
            generated; see :func:`check_generator_cfg`.

    Returns:
        tuple[dict, bool]: The manifest of the folder and whether this call
        generated it.
    """
    cfg = check_generator_cfg(generator_cfg)
    generated = generate_once(root, lambda folder: _write_folder(folder, cfg),
                              'SyntheticScenes')
    return check_synthetic_scenes(root), generated
