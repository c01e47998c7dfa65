"""Convert the original CamVid release into the SegNet layout that
:class:`~upernet_mm.datasets.CamVidDataset` reads.

Input (``src``): ``701_StillsRaw_full/<frame>.png`` (960x720 RGB),
``LabeledApproved_full/<frame>_L.png`` (960x720, one of the 32 colours of
``label_colors.txt`` per pixel) and ``label_colors.txt`` (``R G B name``
per line). Output (``out``, created): ``train/``, ``trainannot/``,
``val/``, ``valannot/``, ``test/``, ``testannot/`` with 480x360 images
(area-averaged) and 8-bit labels 0..10 with void 11 (the 32 classes
grouped into the 11 SegNet classes on the full-size label, then the class
indices downsampled by nearest neighbour, never the colours), and
``train.txt``, ``val.txt``, ``test.txt`` listing ``image label`` pairs
relative to ``out``. Which frame goes to which split is SegNet's
(:data:`~upernet_mm.datasets.camvid_original.SEGNET_SPLIT`).

Everything is checked before anything is written (folders, the colour
file, every frame's image and label present and 960x720); labels are
converted before images, and a label with a colour that is not in the
colour file stops the conversion with the file, the colours and their pixel
counts (``unknown_as_void=True`` makes them void instead: the release's
``Seq05VD_f02610_L.png`` has a few hundred anti-aliased pixels). The output
is written to a temporary folder next to ``out`` and renamed to ``out`` when
complete, so an interrupted run leaves no half-written dataset.
"""
import os
import os.path as osp
import shutil
import uuid
from typing import Callable, Dict, List, Optional

import cv2
import numpy as np
from PIL import Image

from .camvid import VOID
from .camvid_original import (COLOURS_FILE, IMAGE_FOLDER, LABEL_FOLDER,
                              LABEL_SUFFIX, ORIGINAL_CLASSES, ORIGINAL_SIZE,
                              SEGNET_SIZE, SEGNET_SPLIT, segnet_index)

_UNKNOWN = 255  # look-up table entry of a colour not in label_colors.txt


class CamVidConversionError(ValueError):
    """Input that is not the original CamVid release as documented."""


def _listing(folder, limit=6) -> str:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return 'cannot be listed'
    more = f', ... ({len(names)} entries)' if len(names) > limit else ''
    return ('holds ' + ', '.join(names[:limit]) + more) if names \
        else 'is empty'


def read_label_colours(path: str) -> Dict[tuple, str]:
    """Read ``label_colors.txt``: one ``R G B name`` line per class.

    Returns:
        dict: ``(r, g, b)`` -> class name, for the 32 classes.

    Raises:
        CamVidConversionError: Naming the line that is malformed, names an
            unknown class or repeats a colour or a class, or the classes
            missing from the file.
    """
    colours, names = {}, set()
    with open(path, encoding='utf-8', errors='replace') as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            where = f'{path} line {number} ({line.strip()[:60]!r})'
            if len(fields) != 4 or not all(v.isdigit() and int(v) < 256
                                           for v in fields[:3]):
                raise CamVidConversionError(
                    f'{where}: expected "R G B name" with R, G, B in '
                    '0..255')
            rgb, name = tuple(int(v) for v in fields[:3]), fields[3]
            if name not in ORIGINAL_CLASSES:
                raise CamVidConversionError(
                    f'{where}: {name!r} is not one of the 32 CamVid '
                    f'classes ({", ".join(sorted(ORIGINAL_CLASSES))})')
            if rgb in colours or name in names:
                raise CamVidConversionError(
                    f'{where}: colour {rgb} or class {name} listed twice')
            colours[rgb] = name
            names.add(name)
    missing = sorted(set(ORIGINAL_CLASSES) - names)
    if missing:
        raise CamVidConversionError(
            f'{path} does not list the classes {", ".join(missing)}')
    return colours


def colour_lookup(colours: Dict[tuple, str]) -> np.ndarray:
    """A table from 24-bit colour codes (``r << 16 | g << 8 | b``) to SegNet
    label indices (0..10, void 11; 255 for colours not in ``colours``)."""
    table = np.full(1 << 24, _UNKNOWN, np.uint8)
    for (r, g, b), name in colours.items():
        table[(r << 16) | (g << 8) | b] = segnet_index(name)
    return table


def _image_size(path: str, what: str) -> tuple:
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, SyntaxError, ValueError) as error:
        raise CamVidConversionError(
            f'{what} {path} cannot be read as an image: {error}') from error


def check_release(src: str,
                  split: Optional[Dict[str, List[str]]] = None,
                  partial: bool = False) -> Dict[str, List[str]]:
    """Check the release's folders and that every frame of the split has an
    image and a label of 960x720 (file headers only, nothing decoded).

    Args:
        src (str): Folder of the release.
        split (dict | None): Split name -> frame names; SegNet's by default.
        partial (bool): Convert the frames present and skip the missing ones
            (a subset of the release) instead of raising. Default: False.

    Returns:
        dict: Split name -> the frames to convert.

    Raises:
        CamVidConversionError: Naming the missing folder or files, an image
            without label (or the reverse) and files of the wrong size.
    """
    split = SEGNET_SPLIT if split is None else split
    if not osp.isdir(src):
        raise CamVidConversionError(
            f'{src} is not a folder (expected the CamVid release with '
            f'{IMAGE_FOLDER}/, {LABEL_FOLDER}/ and {COLOURS_FILE})')
    for name in (IMAGE_FOLDER, LABEL_FOLDER, COLOURS_FILE):
        path = osp.join(src, name)
        exists = osp.isfile(path) if name == COLOURS_FILE \
            else osp.isdir(path)
        if not exists:
            raise CamVidConversionError(
                f'{path} does not exist; {src} {_listing(src)}')
    image_dir, label_dir = (osp.join(src, IMAGE_FOLDER),
                            osp.join(src, LABEL_FOLDER))
    images = {n[:-4] for n in os.listdir(image_dir) if n.endswith('.png')}
    labels = {
        n[:-len(LABEL_SUFFIX)]
        for n in os.listdir(label_dir) if n.endswith(LABEL_SUFFIX)
    }
    problems = [
        f'image {osp.join(image_dir, f + ".png")} has no label '
        f'{osp.join(label_dir, f + LABEL_SUFFIX)}'
        for f in sorted(images - labels)
    ]
    problems += [
        f'label {osp.join(label_dir, f + LABEL_SUFFIX)} has no '
        f'image {osp.join(image_dir, f + ".png")}'
        for f in sorted(labels - images)
    ]
    frames = {}
    for name, wanted in split.items():
        missing = [f for f in wanted if f not in images or f not in labels]
        if missing and not partial:
            more = ', ...' if len(missing) > 5 else ''
            problems.append(
                f'{len(missing)} frame(s) of the SegNet {name} split are '
                f'missing from {image_dir} or {label_dir}: '
                f'{", ".join(missing[:5])}{more} (use partial=True / '
                '--partial to convert a subset)')
        frames[name] = [f for f in wanted if f in images and f in labels]
    unused = images & labels - {f for fs in split.values() for f in fs}
    if unused:
        problems.append(
            f'{len(unused)} frame(s) are in no split of the SegNet split: '
            f'{", ".join(sorted(unused)[:5])}')
    if problems:
        raise CamVidConversionError(
            f'{src} is not the CamVid release as expected:\n  ' +
            '\n  '.join(problems[:20]))
    if not any(frames.values()):
        raise CamVidConversionError(f'{src}: no frame of the split found')
    for name, wanted in frames.items():
        for frame in wanted:
            for path, what in ((osp.join(image_dir, frame + '.png'), 'image'),
                               (osp.join(label_dir,
                                         frame + LABEL_SUFFIX), 'label')):
                size = _image_size(path, what)
                if size != ORIGINAL_SIZE:
                    raise CamVidConversionError(
                        f'{what} {path} is {size[0]}x{size[1]} (w x h); the '
                        'CamVid release\'s frames are '
                        f'{ORIGINAL_SIZE[0]}x{ORIGINAL_SIZE[1]}')
    return frames


def _rgb(path: str) -> np.ndarray:
    with Image.open(path) as image:
        if image.mode not in ('RGB', 'P'):
            raise CamVidConversionError(
                f'label {path} is a {image.mode} image; CamVid labels are '
                'RGB colour PNGs')
        return np.asarray(image.convert('RGB'))


def label_to_segnet(path: str,
                    table: np.ndarray,
                    unknown_as_void: bool = False) -> tuple:
    """Read a colour label of the release and return its SegNet label
    indices at 480x360 (nearest neighbour on the indices) and the unknown
    colours found (``{(r, g, b): pixels}``, made void).

    Raises:
        CamVidConversionError: If the label has colours that ``table`` does
            not know and ``unknown_as_void`` is False (file, colours, pixel
            counts).
    """
    rgb = _rgb(path).astype(np.uint32)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    index = table[codes]
    unknown = {}
    bad = index == _UNKNOWN
    if bad.any():
        values, counts = np.unique(codes[bad], return_counts=True)
        order = np.argsort(-counts)
        unknown = {
            ((int(v) >> 16) & 255, (int(v) >> 8) & 255, int(v) & 255): int(c)
            for v, c in zip(values[order], counts[order])
        }
        if not unknown_as_void:
            shown = ', '.join(f'{rgb} ({n} pixels)'
                              for rgb, n in list(unknown.items())[:8])
            more = f' and {len(unknown) - 8} more' if len(unknown) > 8 \
                else ''
            raise CamVidConversionError(
                f'label {path} has {int(bad.sum())} pixels of '
                f'{len(unknown)} colour(s) not in {COLOURS_FILE}: '
                f'{shown}{more}; convert with unknown_as_void=True '
                '(--unknown-as-void) to make them void')
        index[bad] = VOID
    small = cv2.resize(index, SEGNET_SIZE, interpolation=cv2.INTER_NEAREST)
    return small, unknown


def _write_png(path: str, array: np.ndarray) -> None:
    if not cv2.imwrite(path, array):
        raise OSError(f'could not write {path}')


def convert_camvid(src: str,
                   out: str,
                   partial: bool = False,
                   unknown_as_void: bool = False,
                   progress: Optional[Callable[[], None]] = None) -> dict:
    """Convert the original CamVid release in ``src`` into the SegNet layout
    in ``out`` (see the module docstring).

    Args:
        src (str): Folder of the release.
        out (str): Folder to create; must not exist or be empty.
        partial (bool): Convert only the frames present (see
            :func:`check_release`). Default: False.
        unknown_as_void (bool): Make colours that are not in
            ``label_colors.txt`` void instead of raising. Default: False.
        progress (callable | None): Called once per converted file (two per
            frame: label and image).

    Returns:
        dict: ``frames`` (split -> number of frames) and ``unknown``
        (label file -> ``{(r, g, b): pixels}`` made void).

    Raises:
        CamVidConversionError: On input that is not as documented (nothing
            is left in ``out``).
        FileExistsError: If ``out`` exists and is not empty.
    """
    if osp.exists(out) and (not osp.isdir(out) or os.listdir(out)):
        raise FileExistsError(
            f'{out} exists and is not an empty folder; remove it or choose '
            'another output folder')
    frames = check_release(src, partial=partial)
    table = colour_lookup(read_label_colours(osp.join(src, COLOURS_FILE)))
    parent = osp.dirname(osp.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = osp.join(
        parent, f'.{osp.basename(osp.abspath(out))}.'
        f'{uuid.uuid4().hex[:8]}.partial')
    os.makedirs(tmp)
    unknown = {}
    try:
        for name, wanted in frames.items():
            os.makedirs(osp.join(tmp, name + 'annot'))
            for frame in wanted:
                path = osp.join(src, LABEL_FOLDER, frame + LABEL_SUFFIX)
                label, found = label_to_segnet(path, table, unknown_as_void)
                if found:
                    unknown[path] = found
                _write_png(
                    osp.join(tmp, name + 'annot', frame + '.png'), label)
                if progress is not None:
                    progress()
        for name, wanted in frames.items():
            os.makedirs(osp.join(tmp, name))
            for frame in wanted:
                path = osp.join(src, IMAGE_FOLDER, frame + '.png')
                image = cv2.imread(path, cv2.IMREAD_COLOR)
                if image is None:
                    raise CamVidConversionError(
                        f'image {path} cannot be decoded')
                _write_png(
                    osp.join(tmp, name, frame + '.png'),
                    cv2.resize(
                        image, SEGNET_SIZE, interpolation=cv2.INTER_AREA))
                if progress is not None:
                    progress()
            with open(osp.join(tmp, name + '.txt'), 'w') as f:
                f.writelines(f'{name}/{frame}.png {name}annot/{frame}.png\n'
                             for frame in wanted)
        if osp.isdir(out):
            os.rmdir(out)  # empty, checked above
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dict(frames={k: len(v) for k, v in frames.items()}, unknown=unknown)
