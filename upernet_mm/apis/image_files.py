"""The files of the inference tools: the images a command line names (files,
folders, globs) and the class-index masks written for them."""
import glob
import os
import os.path as osp

import mmcv
import numpy as np

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def collect_inputs(patterns):
    """Expand files, folders and globs into ``(path, output name)`` pairs.

    A folder contributes its images (recursively) named by their path
    relative to it; a glob names its matches relative to the folder the
    pattern starts in; a file is named by its base name. The same file
    given twice is listed once.

    Args:
        patterns (list[str]): What the user gave.

    Returns:
        tuple[list, list[str]]: The pairs, and the patterns that matched
        nothing.

    Raises:
        ValueError: If two inputs would write the same output name.
    """
    pairs, missing = [], []
    for pattern in patterns:
        if osp.isdir(pattern):
            found = sorted(
                osp.join(root, name)
                for root, _, names in os.walk(pattern, followlinks=True)
                for name in names if name.lower().endswith(IMG_EXTENSIONS))
            pairs += [(p, osp.relpath(p, pattern)) for p in found]
            if not found:
                missing.append(pattern)
        elif osp.isfile(pattern):
            pairs.append((pattern, osp.basename(pattern)))
        elif glob.has_magic(pattern):
            base = pattern
            while glob.has_magic(base):
                base = osp.dirname(base)
            found = sorted(
                p for p in glob.glob(pattern, recursive=True) if osp.isfile(p))
            pairs += [(p, osp.relpath(p, base or '.')) for p in found]
            if not found:
                missing.append(pattern)
        else:
            missing.append(pattern)
    unique, seen = [], set()
    for path, name in pairs:
        if osp.realpath(path) not in seen:
            seen.add(osp.realpath(path))
            unique.append((path, name))
    names = {}
    for path, name in unique:
        stem = osp.splitext(name)[0]
        if stem in names:
            raise ValueError(
                f'{names[stem]} and {path} would both be written as '
                f'{stem}.png; give them separately or rename one')
        names[stem] = path
    return unique, missing


def write_mask(mask, path, num_classes) -> None:
    """Write a class-index mask as a PNG: 8-bit, 16-bit above 256 classes
    (folders created as needed).

    Raises:
        OSError: If the file cannot be written.
    """
    dtype = np.uint8 if num_classes <= 256 else np.uint16
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not mmcv.imwrite(mask.astype(dtype), path):
        raise OSError(f'cannot write {path}')
