"""Class frequencies of a segmentation dataset's labels and the class
weights made from them, for ``CrossEntropyLoss(class_weight=...)``.

The labels are read as training reads them, without the random part of the
pipeline: each sample of the dataset's data list goes through the
pipeline's own ``LoadAnnotations`` (its decoder, ``reduce_zero_label`` and
``label_map``; mmseg's defaults if the pipeline has none), so the counts
are of the class indices the loss sees, at the labels' full size.

Two weightings:

* median frequency balancing (Eigen and Fergus 2015, used by SegNet):
  ``freq(c)`` = pixels of class c / pixels of the images where c is
  present, ``w(c) = median(freq) / freq(c)``;
* ENet's (Paszke et al. 2016): ``w(c) = 1 / ln(1.02 + p(c))`` with
  ``p(c)`` = pixels of class c / all labelled pixels.

Pixels with the ignore index count towards neither a class nor the totals.
"""
import math
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Sequence

import numpy as np
from mmcv.transforms import LoadAnnotations as BaseLoadAnnotations
from mmseg.datasets.transforms import LoadAnnotations

#: The constant c of ENet's weighting ``1 / ln(c + p)``.
ENET_C = 1.02


class LabelCountError(ValueError):
    """A label map whose values the weights cannot be computed from."""


@dataclass
class ClassCounts:
    """Pixel counts of a dataset's classes.

    Attributes:
        classes (tuple[str]): Class names, in label-index order.
        pixels (np.ndarray): Pixels of each class (int64).
        image_pixels (np.ndarray): For each class, the labelled pixels of
            the images in which it is present (int64).
        images (np.ndarray): Number of images in which each class is
            present (int64).
        ignored (int): Pixels with the ignore index.
        num_images (int): Label maps counted.
    """
    classes: tuple
    pixels: np.ndarray
    image_pixels: np.ndarray
    images: np.ndarray
    ignored: int
    num_images: int

    @property
    def labelled(self) -> int:
        """All pixels that carry a class (the ignore index excluded)."""
        return int(self.pixels.sum())

    def proportions(self) -> np.ndarray:
        """Each class's share of all labelled pixels."""
        return self.pixels / max(self.labelled, 1)

    def frequencies(self) -> np.ndarray:
        """``freq(c)`` of median frequency balancing; NaN for classes that
        are in no image."""
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.where(self.image_pixels > 0,
                            self.pixels / self.image_pixels, np.nan)


def leaf_datasets(dataset) -> Iterator:
    """The datasets inside dataset wrappers (mmengine's ``ConcatDataset``,
    ``RepeatDataset``, ``ClassBalancedDataset``), or ``dataset`` itself."""
    children = getattr(dataset, 'datasets', None)
    if children is None and hasattr(dataset, 'dataset'):
        children = [dataset.dataset]
    if children is None:
        yield dataset
        return
    for child in children:
        yield from leaf_datasets(child)


def annotation_loader(dataset) -> Callable[[dict], dict]:
    """The ``LoadAnnotations`` transform of the dataset's pipeline, or
    mmseg's with default settings if the pipeline has none."""
    transforms = getattr(
        getattr(dataset, 'pipeline', None), 'transforms', None) or []
    for transform in transforms:
        if isinstance(transform, BaseLoadAnnotations):
            return transform
    return LoadAnnotations()


def load_label_map(sample: dict, loader: Callable[[dict], dict]) -> np.ndarray:
    """The label map of a data-list sample as ``loader`` loads it.

    Raises:
        LabelCountError: If the sample has no annotation file or the file
            cannot be read (naming the file).
    """
    path = sample.get('seg_map_path')
    if not path:
        raise LabelCountError(
            f'sample {sample.get("img_path")} has no annotation '
            '(seg_map_path); class frequencies need labelled data')
    results = dict(sample)
    results['seg_fields'] = []
    try:
        label = loader(results)['gt_seg_map']
    except Exception as error:  # each decoder fails its own way
        raise LabelCountError(
            f'annotation {path} cannot be loaded: {type(error).__name__}: '
            f'{error}') from error
    if label is None or np.ndim(label) != 2:
        raise LabelCountError(
            f'annotation {path} is not a single-channel label map (loaded '
            f'shape {np.shape(label)})')
    return label


def count_classes(
        dataset,
        ignore_index: int = 255,
        progress: Optional[Callable[[], None]] = None) -> ClassCounts:
    """Count the pixels of each class in the labels of ``dataset`` (a fully
    initialised mmseg dataset, or a wrapper of such datasets).

    Args:
        dataset: The dataset; its ``metainfo['classes']`` gives the classes.
        ignore_index (int): Label value that is no class. Default: 255.
        progress (callable | None): Called once per label map.

    Returns:
        ClassCounts: The counts.

    Raises:
        LabelCountError: For a sample without annotation, a file that
            cannot be loaded, or a label value that is neither a class nor
            ``ignore_index`` (naming the file, the values and their pixel
            counts).
    """
    classes = tuple(dataset.metainfo['classes'])
    n = len(classes)
    pixels = np.zeros(n, np.int64)
    image_pixels = np.zeros(n, np.int64)
    images = np.zeros(n, np.int64)
    ignored = num_images = 0
    for leaf in leaf_datasets(dataset):
        loader = annotation_loader(leaf)
        for index in range(len(leaf)):
            sample = leaf.get_data_info(index)
            label = load_label_map(sample, loader)
            counts = np.bincount(
                label.ravel().astype(np.int64),
                minlength=max(n, ignore_index + 1))
            stray = np.flatnonzero(counts)
            stray = stray[(stray >= n) & (stray != ignore_index)]
            if stray.size:
                shown = ', '.join(f'{v} ({counts[v]} pixels)'
                                  for v in stray[:10])
                raise LabelCountError(
                    f'annotation {sample["seg_map_path"]} has label '
                    f'value(s) {shown} (as loaded) outside 0..{n - 1} '
                    f'({n} classes) that are not the ignore index '
                    f'{ignore_index}')
            present = counts[:n] > 0
            pixels += counts[:n]
            image_pixels[present] += counts[:n].sum()
            images += present
            ignored += int(counts[ignore_index]) \
                if ignore_index < counts.size else 0
            num_images += 1
            if progress is not None:
                progress()
    if num_images == 0:
        raise LabelCountError('the dataset has no samples')
    return ClassCounts(classes, pixels, image_pixels, images, ignored,
                       num_images)


def num_samples(dataset) -> int:
    """Samples of ``dataset`` counted by :func:`count_classes` (wrappers
    unwrapped: a repeated dataset counts once)."""
    return sum(len(leaf) for leaf in leaf_datasets(dataset))


def median_frequency_weights(counts: ClassCounts) -> np.ndarray:
    """``median(freq) / freq(c)``; 0 for classes in no image (they take no
    part in the median)."""
    freq = counts.frequencies()
    present = ~np.isnan(freq)
    weights = np.zeros(len(freq))
    if present.any():
        weights[present] = np.median(freq[present]) / freq[present]
    return weights


def sqrt_median_frequency_weights(counts: ClassCounts) -> np.ndarray:
    """The square roots of :func:`median_frequency_weights`: the same
    order of the classes with a smaller spread (a rare class's weight
    grows with ``1 / sqrt(freq)`` rather than ``1 / freq``)."""
    return np.sqrt(median_frequency_weights(counts))


def enet_weights(counts: ClassCounts, c: float = ENET_C) -> np.ndarray:
    """ENet's ``1 / ln(c + p(c))``."""
    if c <= 1:
        raise ValueError(f'c must be > 1 (ln(c) > 0), got {c}')
    return 1.0 / np.log(c + counts.proportions())


def class_weight_line(weights: Sequence[float], decimals: int = 4) -> str:
    """The config line ``class_weight=[...]`` for ``weights``."""
    return 'class_weight=[' + ', '.join(f'{w:.{decimals}f}'
                                        for w in weights) + ']'


def weights_table(counts: ClassCounts, columns: dict) -> List[List[str]]:
    """Rows (header first) of a table: class, its pixel share, the images
    holding it, ``freq(c)`` and one column per entry of ``columns``
    (name -> weights)."""
    freq = counts.frequencies()
    header = ['index', 'class', 'pixels %', 'images', 'freq'] + \
        list(columns)
    rows = [header]
    for i, name in enumerate(counts.classes):
        rows.append([
            str(i),
            str(name), f'{100 * counts.proportions()[i]:.3f}',
            str(int(counts.images[i])),
            '-' if math.isnan(freq[i]) else f'{freq[i]:.4f}'
        ] + [f'{w[i]:.4f}' for w in columns.values()])
    return rows
