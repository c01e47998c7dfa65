"""Confusion matrices of semantic segmentation: which class the pixels of
each class were predicted as (``tools/analysis_tools/confusion_matrix.py``),
to see where a class's IoU goes (e.g. CamVid's pedestrian predictions
falling on building and bicyclist pixels)."""
from typing import List, Sequence

import numpy as np


def confusion_matrix(pred: np.ndarray, label: np.ndarray, num_classes: int,
                     ignore_index: int) -> np.ndarray:
    """Pixel counts of (true class, predicted class).

    Args:
        pred (np.ndarray): Predicted classes, any integer shape.
        label (np.ndarray): True classes, the same shape; ``ignore_index``
            marks the pixels not counted.
        num_classes (int): Number of classes.
        ignore_index (int): Label of the pixels not counted.

    Returns:
        np.ndarray: (num_classes, num_classes) int64, rows the true classes,
        columns the predicted ones.

    Raises:
        ValueError: If the shapes differ, or a label or prediction is
            neither a class nor (labels only) ``ignore_index``.
    """
    if pred.shape != label.shape:
        raise ValueError(f'the prediction is {pred.shape} but the label map '
                         f'is {label.shape}')
    counted = label != ignore_index
    truth, guess = label[counted].astype(np.int64), pred[counted].astype(
        np.int64)
    for name, values in (('label', truth), ('prediction', guess)):
        bad = values[(values < 0) | (values >= num_classes)]
        if bad.size:
            raise ValueError(f'{name} value {int(bad[0])} is not one of the '
                             f'{num_classes} classes (nor the ignore index '
                             f'{ignore_index})')
    return np.bincount(
        truth * num_classes + guess,
        minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _shares(counts: np.ndarray) -> np.ndarray:
    """``counts`` divided by their sum along the last axis, in percent (0
    where the sum is 0)."""
    total = counts.sum(-1, keepdims=True)
    return np.divide(
        100.0 * counts, total, out=np.zeros(counts.shape), where=total > 0)


def format_confusion(matrix: np.ndarray,
                     classes: Sequence[str],
                     top: int = 3) -> str:
    """The matrix as text: each true class's pixels by predicted class (in
    percent of the class's pixels), then what each predicted class is made
    of (its ``top`` largest true classes, in percent of its pixels).

    Args:
        matrix (np.ndarray): Of :func:`confusion_matrix`.
        classes (Sequence[str]): Class names, in order.
        top (int): True classes listed per predicted class. Default: 3.
    """
    if matrix.shape != (len(classes), len(classes)):
        raise ValueError(f'a confusion matrix of {len(classes)} classes is '
                         f'{(len(classes), ) * 2}, got {matrix.shape}')
    width = max(7, max(len(name) for name in classes) + 1)
    head = [
        'rows: true class; columns: predicted (% of the row\'s pixels)',
        ' ' * width + ''.join(f'{name[:6]:>7s}' for name in classes)
    ]
    rows = [
        f'{name:<{width}s}' + ''.join(f'{value:7.1f}' for value in shares)
        for name, shares in zip(classes, _shares(matrix))
    ]
    made_of: List[str] = ['what each predicted class is (% of its pixels):']
    for index, shares in enumerate(_shares(matrix.T)):
        if not matrix[:, index].any():
            made_of.append(f'{classes[index]:<{width}s} never predicted')
            continue
        order = np.argsort(-shares, kind='stable')[:top]
        made_of.append(f'{classes[index]:<{width}s} ' +
                       ', '.join(f'{classes[t]} {shares[t]:.1f}'
                                 for t in order if shares[t] > 0))
    return '\n'.join(head + rows + made_of)
