"""The rule machinery of the conversions between transformers and
upernet_mm, shared by the backbone families (``convnext``, ``swin``,
``resnet``), the heads (``uper_head``) and whole models (``upernet``):

* the errors a conversion raises;
* reading and checking config fields on both sides (defaults from the mm
  classes' signatures, scope prefixes, output stages);
* bidirectional key rules between an upernet_mm and a transformers state
  dict and their application with missing/unexpected key and shape checks
  (one list of :class:`Rule` describes a model in both directions, so a
  conversion and its inverse cannot drift apart);
* :class:`BackboneMapping`, the interface of a backbone family.
"""
import copy
import inspect
from dataclasses import dataclass
from typing import (Any, Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple)

import torch

# errors


class ConversionError(ValueError):
    """Base class of the conversion errors."""


class UnsupportedBackboneError(ConversionError):
    """A backbone type that has no counterpart on the other side."""


class UnsupportedOptionError(ConversionError):
    """A config option whose value the other side cannot express."""


class CheckpointMismatchError(ConversionError):
    """A checkpoint whose keys or shapes do not match its config."""


# config fields


def with_defaults(cfg: Dict[str, Any], defaults: Dict[str, Any]) -> Dict:
    """``cfg`` completed with ``defaults`` for the fields it omits.

    transformers writes only non-default fields in some versions, so every
    field is read through this with the defaults of the supported version.
    """
    out = dict(defaults)
    out.update(cfg)
    return out


def signature_defaults(cls: type, names: Sequence[str]) -> Dict[str, Any]:
    """The defaults of the keyword arguments ``names`` of ``cls``, read from
    the ``__init__`` signatures along its MRO (as ``**kwargs`` passes them on
    to the base classes), so that they follow the installed mm packages
    instead of being copied.

    Raises:
        TypeError: If one of ``names`` has no default in any signature (the
            mm class changed).
    """
    found = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        for param in inspect.signature(init).parameters.values():
            if param.name in names and param.name not in found \
                    and param.default is not param.empty:
                found[param.name] = param.default
    missing = [n for n in names if n not in found]
    if missing:
        raise TypeError(f'{cls.__module__}.{cls.__name__} has no default '
                        f'for {missing}; the converter needs one')
    return copy.deepcopy({n: found[n] for n in names})


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


def expect_exact_gelu(act_cfg: Dict[str, Any], field: str, model: str) -> None:
    """Raise unless an mm ``act_cfg`` is the exact GELU, which transformers
    ``model`` is configured with (``hidden_act='gelu'``)."""
    expect(
        act_cfg.get('type'), ['GELU'], f'{field}.act_cfg.type',
        f'transformers {model} is configured with GELU here')
    expect(
        act_cfg.get('approximate',
                    'none'), ['none'], f'{field}.act_cfg.approximate',
        'transformers "gelu" is the exact GELU')


def expect_batchnorm(norm_cfg: Dict[str, Any], field: str, model: str) -> None:
    """Raise unless an mm ``norm_cfg`` is BatchNorm (``BN`` or ``SyncBN``)
    with the default eps 1e-5, which transformers ``model`` has."""
    expect(
        norm_cfg.get('type'), ['BN', 'SyncBN'], f'{field}.norm_cfg.type',
        f'transformers {model} uses BatchNorm')
    expect(
        norm_cfg.get('eps', 1e-5), [1e-5], f'{field}.norm_cfg.eps',
        f'transformers {model} uses the BatchNorm default eps 1e-5')


def square_patch_size(hf_cfg: Dict[str, Any], field: str, reason: str) -> int:
    """The ``patch_size`` of an HF backbone config as one int (HF allows a
    pair); ``reason`` says why a non-square one does not map."""
    patch = hf_cfg['patch_size']
    if isinstance(patch, (list, tuple)):
        if len(set(patch)) != 1:
            raise UnsupportedOptionError(
                f'{field}.patch_size={patch!r}: {reason}')
        patch = patch[0]
    return patch


def hf_out_indices(cfg: Dict[str, Any], field: str) -> List[int]:
    """The stages an HF backbone outputs, as the ``out_indices`` of the mm
    backbone (0-based: ``stage1`` is 0).

    Args:
        cfg (dict): The backbone config (``out_features``/``out_indices``
            and ``depths``).
        field (str): Dotted name of the backbone config, for errors.

    Returns:
        list[int]: Increasing stage indices.
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
    return [s - 1 for s in stages]


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


# key rules

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


def rename_params(
    mm_prefix: str, hf_prefix: str,
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


def apply_rules(
        rules: Sequence[Rule],
        state: Dict[str, torch.Tensor],
        to: str,
        origin: str,
        ignore: Optional[Callable[[str],
                                  bool]] = None) -> Dict[str, torch.Tensor]:
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
            f'The {src_side} checkpoint {origin} does not match its config: ' +
            '; '.join(parts))

    out = {}
    for rule in active:
        src_keys, dst_keys, fn = ((rule.hf_keys, rule.mm_keys,
                                   rule.to_mm) if to == 'mm' else
                                  (rule.mm_keys, rule.hf_keys, rule.to_hf))
        tensors = fn(*[state[k] for k in src_keys])
        if len(tensors) != len(dst_keys):
            raise RuntimeError(f'rule for {src_keys} returned {len(tensors)} '
                               f'tensors for {len(dst_keys)} keys')
        out.update(zip(dst_keys, tensors))
    return out


def check_shapes(state: Dict[str, torch.Tensor], expected: Dict[str,
                                                                torch.Size],
                 origin: str, what: str) -> None:
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


# backbone families


class BackboneMapping:
    """How one backbone family maps between transformers and upernet_mm.

    Subclasses describe configs (both directions) and the state-dict rules
    of the trunk; the output norms shared by ConvNeXt and Swin are here.

    Attributes:
        hf_model_type (str): ``model_type`` of the transformers config.
        mm_types (tuple[str]): Backbone ``type`` names (without scope) that
            map; other variants of the family are refused with a reason.
        hf_defaults (dict): Defaults of the transformers config fields in
            the supported transformers version.
        mm_defaults (dict): Defaults of the mm backbone's arguments that
            the mapping reads (``out_indices`` among them).
        hf_trunk_prefix (str): Where the trunk sits inside the transformers
            ``*Backbone`` module (``'swin.'`` for Swin).
        hf_base_prefix (str): Where the trunk sits in the standalone
            transformers models (``*Model``, ``*ForImageClassification``).
        has_out_norms (bool): Whether the backbone normalises each output
            (``hidden_states_norms`` / ``norm{i}``).
    """
    hf_model_type = ''
    mm_types: tuple = ()
    hf_defaults: Dict[str, Any] = {}
    mm_defaults: Dict[str, Any] = {}
    hf_trunk_prefix = ''
    hf_base_prefix = ''
    has_out_norms = True

    def to_mm_config(self, hf_cfg: Dict[str, Any],
                     field: str) -> Dict[str, Any]:
        """The mm backbone config of a transformers backbone config.

        Args:
            hf_cfg (dict): The transformers config, defaults filled in.
            field (str): Where it sits (e.g. ``config.json:backbone_config``)
                for errors.
        """
        raise NotImplementedError

    def to_hf_config(self, mm_cfg: Dict[str, Any],
                     field: str) -> Dict[str, Any]:
        """The transformers backbone config (with ``model_type``) of an mm
        backbone config; ``field`` names it in errors."""
        raise NotImplementedError

    def num_stages(self, mm_cfg: Dict[str, Any], field: str) -> int:
        """Number of stages of the mm backbone."""
        raise NotImplementedError

    def out_indices(self, mm_cfg: Dict[str, Any], field: str) -> List[int]:
        """Increasing stage indices the mm backbone outputs."""
        return mm_out_indices(mm_cfg, self.num_stages(mm_cfg, field), field,
                              self.mm_defaults['out_indices'])

    def out_channels(self, mm_cfg: Dict[str, Any]) -> List[int]:
        """Channels of each output of the mm backbone."""
        raise NotImplementedError

    def hf_out_features(self, mm_cfg: Dict[str, Any], field: str) -> List[str]:
        """The transformers ``out_features`` of the mm backbone's
        outputs."""
        return [f'stage{i + 1}' for i in self.out_indices(mm_cfg, field)]

    def trunk_rules(self, mm_cfg: Dict[str, Any], mm_prefix: str,
                    hf_prefix: str) -> List[Rule]:
        """Rules of every weight of the trunk (all but the output norms)."""
        raise NotImplementedError

    def out_norm_rules(self, mm_cfg: Dict[str, Any], mm_prefix: str,
                       hf_prefix: str) -> List[Rule]:
        """Rules of the output norms: ``norm{i}`` in mm,
        ``hidden_states_norms.stage{i+1}`` in transformers."""
        if not self.has_out_norms:
            return []
        rules = []
        for i in self.out_indices(mm_cfg, 'backbone'):
            rules += rename_params(
                f'{mm_prefix}norm{i}', f'{hf_prefix}hidden_states_norms.'
                f'stage{i + 1}')
        return rules

    def normalize_hf_state(self, state: Dict, hf_prefix: str) -> Dict:
        """Rename keys of older transformers layouts to the current one.

        Args:
            state (dict): An HF state dict.
            hf_prefix (str): Prefix of the backbone module in ``state``.
        """
        return state

    def hf_ignorable(self, key: str) -> bool:
        """Whether an HF key that no rule uses may be dropped silently
        (buffers transformers itself recomputes)."""
        return False
