"""Calibration images for int8 quantization: a fixed, evenly spaced subset
of a config's training images, in a fixed order, through the config's test
pipeline (deterministic: no random crop, flip or colour jitter), in the
convention of the exported graphs: (1, 3, H, W) float32, 0-255, channels
as the pipeline loads them."""
import copy
import hashlib
from typing import List, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope

from upernet_mm.registry import DATASETS, SCOPE

SPLITS = {
    'train': 'train_dataloader',
    'val': 'val_dataloader',
    'test': 'test_dataloader'
}


def _test_pipeline(cfg: Config) -> list:
    pipeline = cfg.get('test_pipeline') or cfg.get('test_dataloader', {}).get(
        'dataset', {}).get('pipeline')
    if not pipeline:
        raise ValueError('the config has neither test_pipeline nor '
                         'test_dataloader.dataset.pipeline')
    # the images only: annotations are not needed (and may be absent)
    return [
        dict(step) for step in pipeline
        if step['type'] not in ('LoadAnnotations', 'LoadDepthAnnotation')
    ]


def spaced_indices(total: int, num: int) -> List[int]:
    """``num`` indices spread evenly over ``range(total)``, ascending,
    starting at 0 (all of them when ``num >= total``)."""
    if num >= total:
        return list(range(total))
    return [int(i * total // num) for i in range(num)]


def calibration_images(cfg: Config,
                       num_images: int = 300,
                       split: str = 'train') -> Tuple[list, dict]:
    """Load ``num_images`` images of the config's ``split`` dataset for
    calibration.

    The dataset is the one of ``{split}_dataloader`` with its pipeline
    replaced by the test pipeline (annotation loading dropped); images are
    taken at :func:`spaced_indices` of the dataset's order (mmseg sorts it by
    file name). With a sliding-window ``test_cfg`` each image is cut to its
    first window (top-left ``crop_size``), what the network sees at test
    time.

    Args:
        cfg (Config): A complete config.
        num_images (int): How many images. Default: 300.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Default: 'train'.

    Returns:
        tuple[list[np.ndarray], dict]: The images, and a description for
        the artefact's sidecar (split, dataset size, indices rule, number,
        SHA-256 of the file names in order).
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {tuple(SPLITS)}, got '
                         f'{split!r}')
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    loader = cfg.get(SPLITS[split])
    if not loader or not loader.get('dataset'):
        raise ValueError(f'the config has no {SPLITS[split]}.dataset')
    dataset_cfg = copy.deepcopy(loader['dataset'])
    dataset_cfg['pipeline'] = _test_pipeline(cfg)
    test_cfg = cfg.model.get('test_cfg') or {}
    crop = test_cfg.get('crop_size') if test_cfg.get(
        'mode') == 'slide' else None
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', SCOPE)):
        dataset = DATASETS.build(dataset_cfg)
    indices = spaced_indices(len(dataset), num_images)
    images, names = [], []
    for index in indices:
        data = dataset[index]
        image = data['inputs'].numpy().astype(np.float32)[None]
        if crop is not None:
            image = np.ascontiguousarray(image[:, :, :crop[0], :crop[1]])
        images.append(image)
        names.append(str(data['data_samples'].img_path))
    digest = hashlib.sha256('\n'.join(
        name.rsplit('/', 1)[-1] for name in names).encode()).hexdigest()
    info = dict(
        split=split,
        dataset_size=len(dataset),
        num_images=len(images),
        indices='i * dataset_size // num_images for i < num_images '
        '(dataset order, sorted by file name)',
        pipeline='test_pipeline without annotation loading' +
        (f', first {tuple(crop)} window' if crop is not None else ''),
        first_file=names[0].rsplit('/', 1)[-1],
        file_names_sha256=digest)
    return images, info
