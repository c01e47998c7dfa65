"""Reading and checking config fields on both sides of a conversion."""
from typing import Any, Dict, List, Sequence

from .errors import UnsupportedOptionError


def with_defaults(cfg: Dict[str, Any], defaults: Dict[str, Any]) -> Dict:
    """``cfg`` completed with ``defaults`` for the fields it omits.

    transformers writes only non-default fields in some versions, so every
    field is read through this with the defaults of the supported version.
    """
    out = dict(defaults)
    out.update(cfg)
    return out


def strip_scope(type_name: str) -> str:
    """``'mmpretrain.ConvNeXt'`` -> ``'ConvNeXt'``."""
    return type_name.rsplit('.', 1)[-1] if isinstance(type_name,
                                                      str) else type_name


def expect(value: Any, allowed: Sequence[Any], field: str,
           reason: str) -> None:
    """Raise :class:`UnsupportedOptionError` unless ``value`` is allowed.

    Args:
        value: The value found in the config.
        allowed (Sequence): The values the other side can express.
        field (str): Dotted name of the field, as the user wrote it.
        reason (str): Why only those values map.
    """
    if value not in allowed:
        allowed_text = ' or '.join(repr(a) for a in allowed)
        raise UnsupportedOptionError(
            f'{field}={value!r} cannot be converted: {reason} (supported: '
            f'{allowed_text})')


def hf_out_stages(cfg: Dict[str, Any], field: str) -> List[int]:
    """Stage numbers (1-based, as in ``stage1``) an HF backbone outputs.

    Args:
        cfg (dict): The backbone config (``out_features``/``out_indices``
            and ``depths``).
        field (str): Dotted name of the backbone config, for errors.

    Returns:
        list[int]: Increasing stage numbers; 0 would be the stem.
    """
    num_stages = len(cfg['depths'])
    names = ['stem'] + [f'stage{i}' for i in range(1, num_stages + 1)]
    if cfg.get('out_features'):
        unknown = [f for f in cfg['out_features'] if f not in names]
        if unknown:
            raise UnsupportedOptionError(
                f'{field}.out_features={cfg["out_features"]!r} names '
                f'unknown stages {unknown}; the stages are {names}')
        stages = [names.index(f) for f in cfg['out_features']]
    elif cfg.get('out_indices'):
        stages = [i % len(names) for i in cfg['out_indices']]
    else:
        stages = [num_stages]
    if 0 in stages:
        raise UnsupportedOptionError(
            f'{field}.out_features includes "stem", which upernet_mm '
            'backbones do not output; use stage1 and later')
    if stages != sorted(set(stages)):
        raise UnsupportedOptionError(
            f'{field}.out_features must list stages in increasing order '
            f'without repeats, got {[names[s] for s in stages]}')
    return stages


def mm_out_indices(cfg: Dict[str, Any], num_stages: int, field: str,
                   default: Sequence[int]) -> List[int]:
    """The ``out_indices`` of an mm backbone config as increasing ints.

    Args:
        cfg (dict): The backbone config.
        num_stages (int): Number of stages of the backbone.
        field (str): Dotted name of the backbone config, for errors.
        default (Sequence[int]): The backbone's default ``out_indices``.
    """
    value = cfg.get('out_indices', default)
    indices = [value] if isinstance(value, int) else list(value)
    indices = [i % num_stages if i < 0 else i for i in indices]
    if indices != sorted(set(indices)) or any(i >= num_stages
                                              for i in indices):
        raise UnsupportedOptionError(
            f'{field}.out_indices={value!r} must be increasing stage indices '
            f'below {num_stages}: transformers returns feature maps in stage '
            'order')
    return indices
