"""Whole-model conversion: transformers ``UperNetForSemanticSegmentation``
<-> upernet_mm ``UPerEncoderDecoder`` with ``UPerHead`` (and ``FCNHead``)."""
from typing import Any, Dict, List, Optional, Tuple

import torch

from .convnext import ConvNextMapping
from .metainfo import classes_from_id2label
from .resnet import ResNetMapping, refused_reason
from .rules import (BackboneMapping, Rule, UnsupportedBackboneError,
                    UnsupportedOptionError, apply_rules, strip_scope,
                    with_defaults)
from .swin import SwinMapping
from .uper_head import HF_DEFAULTS, head_rules, heads_to_hf, heads_to_mm

BACKBONES: Tuple[BackboneMapping,
                 ...] = (ConvNextMapping(), SwinMapping(), ResNetMapping())
HF_ARCHITECTURE = 'UperNetForSemanticSegmentation'
# UperNetConfig's default backbone when config.json has none
HF_DEFAULT_BACKBONE = dict(
    model_type='resnet', out_features=['stage1', 'stage2', 'stage3', 'stage4'])


def hf_backbone_mapping(model_type: str, field: str) -> BackboneMapping:
    """The mapping of a transformers backbone ``model_type``.

    Raises:
        UnsupportedBackboneError: Naming the type and the supported ones.
    """
    for mapping in BACKBONES:
        if mapping.hf_model_type == model_type:
            return mapping
    supported = [m.hf_model_type for m in BACKBONES]
    raise UnsupportedBackboneError(
        f'{field}.model_type={model_type!r} is not supported; upernet_mm '
        f'converts the transformers backbones {supported}')


def mm_backbone_mapping(type_name: str, field: str) -> BackboneMapping:
    """The mapping of an mm backbone ``type`` (scope prefix allowed).

    Raises:
        UnsupportedBackboneError: Naming the type and, for variants of a
            supported family, why it does not map.
    """
    name = strip_scope(type_name)
    for mapping in BACKBONES:
        if name in mapping.mm_types:
            return mapping
    supported = [t for m in BACKBONES for t in m.mm_types]
    reason = refused_reason(name)
    detail = f': {reason}' if reason else ''
    raise UnsupportedBackboneError(
        f'{field}.type={type_name!r} has no transformers counterpart'
        f'{detail}. Supported backbone types: {supported} (ConvNeXt from '
        'mmpretrain)')


def read_upernet_config(hf_config: Dict[str, Any],
                        origin: str) -> Tuple[Dict, Dict, BackboneMapping]:
    """A transformers UperNet config with every default filled in.

    Args:
        hf_config (dict): The content of ``config.json``.
        origin (str): Its path, for errors.

    Returns:
        tuple: The head config, the backbone config and its mapping.
    """
    model_type = hf_config.get('model_type')
    if model_type != 'upernet':
        raise UnsupportedBackboneError(
            f'{origin}: model_type={model_type!r}, expected a transformers '
            'UperNet ("upernet"); a backbone-only directory can initialise '
            "a backbone through init_cfg=dict(type='Pretrained', "
            "checkpoint='hf://DIR', prefix='backbone.')")
    if hf_config.get('backbone') or hf_config.get('use_timm_backbone'):
        raise UnsupportedBackboneError(
            f'{origin}: backbone={hf_config.get("backbone")!r} / '
            f'use_timm_backbone={hf_config.get("use_timm_backbone")!r} name '
            'a timm or Hub backbone loaded by name, which upernet_mm does '
            'not convert; a backbone_config of a supported type is needed')
    head = with_defaults(hf_config, HF_DEFAULTS)
    backbone = hf_config.get('backbone_config') or HF_DEFAULT_BACKBONE
    field = f'{origin}:backbone_config'
    mapping = hf_backbone_mapping(backbone.get('model_type'), field)
    return head, with_defaults(backbone, mapping.hf_defaults), mapping


def hf_to_mm_model(hf_config: Dict[str, Any],
                   origin: str,
                   data_preprocessor: Optional[Dict] = None) -> Dict:
    """The mm ``model`` config of a transformers UperNet config.

    Args:
        hf_config (dict): The content of ``config.json``.
        origin (str): Its path, for errors.
        data_preprocessor (dict, optional): The mm data preprocessor.

    Returns:
        dict: A ``UPerEncoderDecoder`` config.
    """
    head, backbone_hf, mapping = read_upernet_config(hf_config, origin)
    backbone = mapping.to_mm_config(backbone_hf, f'{origin}:backbone_config')
    classes = classes_from_id2label(hf_config, origin)
    decode, aux = heads_to_mm(head, mapping.out_channels(backbone),
                              len(classes), origin)
    model = dict(type='UPerEncoderDecoder')
    if data_preprocessor is not None:
        model['data_preprocessor'] = data_preprocessor
    model.update(
        pretrained=None,
        backbone=backbone,
        decode_head=decode,
        auxiliary_head=aux,
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
    return model


def model_rules(model_cfg: Dict[str, Any], field: str = 'model') -> List[Rule]:
    """All state-dict rules of an mm model config (mm ``backbone.``,
    ``decode_head.``, ``auxiliary_head.`` <-> the same in transformers)."""
    backbone = model_cfg['backbone']
    mapping = mm_backbone_mapping(backbone.get('type'), f'{field}.backbone')
    hf_backbone = 'backbone.'
    rules = mapping.trunk_rules(backbone, 'backbone.',
                                hf_backbone + mapping.hf_trunk_prefix)
    rules += mapping.out_norm_rules(backbone, 'backbone.', hf_backbone)
    return rules + head_rules(model_cfg)


def hf_state_to_mm(model_cfg: Dict[str, Any], hf_state: Dict[str, Any],
                   origin: str) -> Dict[str, torch.Tensor]:
    """Convert the weights of a transformers UperNet.

    Args:
        model_cfg (dict): The mm model config (from :func:`hf_to_mm_model`).
        hf_state (dict): The transformers state dict.
        origin (str): The weights' path, for errors.

    Returns:
        dict: The mm state dict.

    Raises:
        CheckpointMismatchError: If the keys do not match the config.
    """
    mapping = mm_backbone_mapping(model_cfg['backbone']['type'], 'backbone')
    state = mapping.normalize_hf_state(hf_state, 'backbone.')
    return apply_rules(
        model_rules(model_cfg),
        state,
        'mm',
        origin,
        ignore=mapping.hf_ignorable)


def mm_to_hf_config(model_cfg: Dict[str, Any],
                    classes: List[str],
                    field: str = 'model') -> Tuple[Dict[str, Any], List[str]]:
    """The transformers UperNet config of an mm model config.

    Args:
        model_cfg (dict): The mm ``model`` config.
        classes (list[str]): Class names, one per logit.
        field (str): Dotted name of ``model_cfg``, for errors.

    Returns:
        tuple[dict, list[str]]: The config (as ``config.json`` holds it) and
        notes on training-only options that do not carry over.
    """
    type_name = strip_scope(model_cfg.get('type'))
    if type_name not in ('UPerEncoderDecoder', 'EncoderDecoder'):
        raise UnsupportedBackboneError(
            f'{field}.type={model_cfg.get("type")!r}: only UPerEncoderDecoder '
            '(or mmseg\'s EncoderDecoder) maps to transformers UperNet')
    backbone = model_cfg['backbone']
    mapping = mm_backbone_mapping(backbone.get('type'), f'{field}.backbone')
    backbone_hf = mapping.to_hf_config(backbone, f'{field}.backbone')
    head, num_classes, notes = heads_to_hf(model_cfg,
                                           mapping.out_channels(backbone),
                                           field)
    if len(classes) != num_classes:
        raise UnsupportedOptionError(
            f'{field}.decode_head.num_classes={num_classes} but the dataset '
            f'has {len(classes)} classes {list(classes)[:5]}...; id2label '
            'needs one name per logit')
    hf = dict(
        model_type='upernet',
        architectures=[HF_ARCHITECTURE],
        backbone_config=backbone_hf,
        id2label={
            i: str(c)
            for i, c in enumerate(classes)
        },
        label2id={
            str(c): i
            for i, c in enumerate(classes)
        })
    hf.update(head)
    return hf, notes


def mm_state_to_hf(model_cfg: Dict[str, Any], mm_state: Dict[str, Any],
                   origin: str) -> Dict[str, torch.Tensor]:
    """Convert the weights of an mm UPerNet to transformers names.

    Raises:
        CheckpointMismatchError: If the keys do not match the config.
    """
    return apply_rules(model_rules(model_cfg), mm_state, 'hf', origin)


def hf_backbone_state_to_mm(hf_config: Dict[str, Any], hf_state: Dict[str,
                                                                      Any],
                            origin: str) -> Dict[str, torch.Tensor]:
    """Backbone weights (``backbone.*``) of a transformers backbone-only
    directory (``*Model``, ``*Backbone``, ``*ForImageClassification``).

    Output norms are converted when the directory has them (a ``*Backbone``)
    and left to the mm model's initialisation otherwise, as for mmseg's own
    conversions of ImageNet checkpoints.

    Args:
        hf_config (dict): Its ``config.json``.
        hf_state (dict): Its weights.
        origin (str): Its path, for errors.
    """
    field = f'{origin}:config.json'
    mapping = hf_backbone_mapping(hf_config.get('model_type'), field)
    hf_cfg = with_defaults(hf_config, mapping.hf_defaults)
    backbone = mapping.to_mm_config(hf_cfg, field)
    base = mapping.hf_base_prefix
    # the trunk sits under ``base`` in *Model/*ForImageClassification and
    # in memory, at the root in *Backbone files (SwinBackbone too, saved)
    for prefix in (base, ''):
        state = mapping.normalize_hf_state(hf_state, prefix)
        rules = mapping.trunk_rules(backbone, 'backbone.', prefix)
        if rules[0].hf_keys[0] in state:
            break
    if any(k.startswith('hidden_states_norms.') for k in state):
        rules += mapping.out_norm_rules(backbone, 'backbone.', '')

    def ignore(key):
        # classification heads and the final norm of *Model
        return (key.startswith(
            ('classifier.', f'{prefix}layernorm.', f'{base}layernorm.'))
                or mapping.hf_ignorable(key))

    return apply_rules(rules, state, 'mm', origin, ignore=ignore)
