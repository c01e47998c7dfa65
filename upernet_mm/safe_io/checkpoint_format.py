"""Conversion of runner checkpoints to and from data that
``torch.load(weights_only=True)`` accepts.

mmengine stores the message hub's :class:`HistoryBuffer` objects (whose
statistics methods pickle through ``builtins.getattr``) and numpy arrays in
its checkpoints. :func:`to_weights_only` replaces them by tagged dicts of
tensors and plain values; :func:`from_weights_only` restores them.
"""
from collections import OrderedDict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

_BUFFER_TAG = '__upernet_mm_history_buffer__'
_ARRAY_TAG = '__upernet_mm_ndarray__'

# Leaf types torch.load(weights_only=True) accepts without allowlisting.
_PLAIN = (torch.Tensor, str, bytes, int, float, bool, complex, type(None),
          torch.Size, torch.dtype, torch.device)


def _tensor(array):
    return torch.from_numpy(np.ascontiguousarray(array))


def to_weights_only(obj, path='checkpoint', unsupported=None):
    """Return a copy of ``obj`` that loads with ``weights_only=True``.

    Args:
        obj: A checkpoint or a part of it.
        path (str): Key path of ``obj``, used in reports.
        unsupported (list | None): Receives ``(path, type name)`` of values
            that could not be converted and will need a trusted load.

    Returns:
        The converted object; ``obj`` is not modified.
    """
    if isinstance(obj, np.generic):  # before _PLAIN: np.float64 is a float
        return obj.item()
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {
            _BUFFER_TAG: True,
            'log_history': _tensor(log),
            'count_history': _tensor(count),
            'max_length': int(obj.max_length),
        }
    if isinstance(obj, np.ndarray) and obj.dtype != object:
        return {_ARRAY_TAG: _tensor(obj)}
    if isinstance(obj, dict):
        items = ((k, to_weights_only(v, f'{path}.{k}', unsupported))
                 for k, v in obj.items())
        return OrderedDict(items) if isinstance(obj, OrderedDict) \
            else dict(items)
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        return type(obj)(to_weights_only(v, f'{path}[{i}]', unsupported)
                         for i, v in enumerate(obj))
    if unsupported is not None:
        unsupported.append((path, type(obj).__name__))
    return obj


def from_weights_only(obj):
    """Undo :func:`to_weights_only`: rebuild history buffers and arrays.

    Args:
        obj: A loaded checkpoint or a part of it.

    Returns:
        The restored object.
    """
    if isinstance(obj, dict):
        if obj.get(_BUFFER_TAG) is True:
            return HistoryBuffer(obj['log_history'].numpy(),
                                 obj['count_history'].numpy(),
                                 obj['max_length'])
        if set(obj) == {_ARRAY_TAG}:
            return obj[_ARRAY_TAG].numpy()
        items = ((k, from_weights_only(v)) for k, v in obj.items())
        return OrderedDict(items) if isinstance(obj, OrderedDict) \
            else dict(items)
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        return type(obj)(from_weights_only(v) for v in obj)
    return obj
