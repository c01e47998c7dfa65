"""Bidirectional key rules between an upernet_mm and a transformers state
dict, and their application with missing/unexpected key checks.

One list of :class:`Rule` describes a model in both directions, so a
conversion and its inverse cannot drift apart.
"""
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch

from .errors import CheckpointMismatchError

Tensors = Tuple[torch.Tensor, ...]


def _identity(*tensors):
    return tensors


@dataclass(frozen=True)
class Rule:
    """How some keys of an mm state dict correspond to keys of an HF one.

    Args:
        mm_keys (tuple[str]): Keys on the upernet_mm side.
        hf_keys (tuple[str]): Keys on the transformers side.
        to_mm (callable): Maps the HF tensors, in ``hf_keys`` order, to a
            tuple of mm tensors in ``mm_keys`` order. Default: identity.
        to_hf (callable): The inverse of ``to_mm``. Default: identity.
        hf_optional (bool): Whether the HF keys may all be absent when
            reading an HF checkpoint (weights the HF model holds but never
            uses). Default: False.
    """
    mm_keys: Tuple[str, ...]
    hf_keys: Tuple[str, ...]
    to_mm: Callable[..., Tensors] = _identity
    to_hf: Callable[..., Tensors] = _identity
    hf_optional: bool = False


def rename(mm_key: str, hf_key: str) -> Rule:
    """A rule that only renames one tensor."""
    return Rule((mm_key, ), (hf_key, ))


def rename_params(mm_prefix: str, hf_prefix: str,
                  names: Iterable[str] = ('weight', 'bias')) -> List[Rule]:
    """Rename rules for the parameters ``names`` of one layer."""
    return [rename(f'{mm_prefix}.{n}', f'{hf_prefix}.{n}') for n in names]


BN_NAMES = ('weight', 'bias', 'running_mean', 'running_var',
            'num_batches_tracked')


def _describe(keys: Sequence[str], limit: int = 8) -> str:
    keys = sorted(keys)
    shown = ', '.join(keys[:limit])
    more = f' and {len(keys) - limit} more' if len(keys) > limit else ''
    return f'{shown}{more}'


def apply_rules(rules: Sequence[Rule],
                state: Dict[str, torch.Tensor],
                to: str,
                origin: str,
                ignore: Optional[Callable[[str], bool]] = None
                ) -> Dict[str, torch.Tensor]:
    """Convert a state dict with ``rules``.

    Args:
        rules (Sequence[Rule]): The rules of the whole model.
        state (dict): The source state dict.
        to (str): ``'mm'`` to convert an HF state dict to upernet_mm,
            ``'hf'`` for the inverse.
        origin (str): Where ``state`` comes from (a file or directory),
            named in errors.
        ignore (callable, optional): Source keys for which it returns True
            may be present without a rule and are dropped.

    Returns:
        dict: The converted state dict, in rule order.

    Raises:
        CheckpointMismatchError: If keys the rules need are missing from
            ``state``, or ``state`` holds keys no rule uses.
    """
    if to not in ('mm', 'hf'):
        raise ValueError(f"to must be 'mm' or 'hf', got {to!r}")
    src_side = 'transformers' if to == 'mm' else 'upernet_mm'
    missing, used = [], set()
    active = []
    for rule in rules:
        src_keys = rule.hf_keys if to == 'mm' else rule.mm_keys
        absent = [k for k in src_keys if k not in state]
        if to == 'mm' and rule.hf_optional and len(absent) == len(src_keys):
            continue
        missing.extend(absent)
        used.update(src_keys)
        active.append(rule)
    unexpected = [
        k for k in state
        if k not in used and not (ignore is not None and ignore(k))
    ]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f'missing {len(missing)} key(s) the config '
                         f'requires: {_describe(missing)}')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected key(s) the config '
                         f'does not use: {_describe(unexpected)}')
        raise CheckpointMismatchError(
            f'The {src_side} checkpoint {origin} does not match its config: '
            + '; '.join(parts))

    out = {}
    for rule in active:
        src_keys, dst_keys, fn = ((rule.hf_keys, rule.mm_keys, rule.to_mm)
                                  if to == 'mm' else
                                  (rule.mm_keys, rule.hf_keys, rule.to_hf))
        tensors = fn(*[state[k] for k in src_keys])
        if len(tensors) != len(dst_keys):
            raise RuntimeError(f'rule for {src_keys} returned {len(tensors)} '
                               f'tensors for {len(dst_keys)} keys')
        out.update(zip(dst_keys, tensors))
    return out


def check_shapes(state: Dict[str, torch.Tensor],
                 expected: Dict[str, torch.Size], origin: str,
                 what: str) -> None:
    """Raise if ``state`` and ``expected`` differ in keys or shapes.

    Args:
        state (dict): A converted state dict.
        expected (dict): Key to shape of the model built from the config.
        origin (str): The checkpoint the state comes from, for errors.
        what (str): What ``expected`` describes, for errors.

    Raises:
        CheckpointMismatchError: Naming the keys and shapes at fault.
    """
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [(k, tuple(state[k].shape), tuple(expected[k])) for k in state
             if k in expected and tuple(state[k].shape) != tuple(expected[k])]
    if not (missing or unexpected or wrong):
        return
    parts = []
    if wrong:
        shown = '; '.join(f'{k}: checkpoint {a}, config {b}'
                          for k, a, b in wrong[:6])
        more = f' and {len(wrong) - 6} more' if len(wrong) > 6 else ''
        parts.append(f'{len(wrong)} shape mismatch(es): {shown}{more}')
    if missing:
        parts.append(f'missing {_describe(missing)}')
    if unexpected:
        parts.append(f'unexpected {_describe(unexpected)}')
    raise CheckpointMismatchError(
        f'The checkpoint {origin} does not match {what}: ' + '; '.join(parts))
