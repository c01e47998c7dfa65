"""transformers ``UperNetHead``/``UperNetFCNHead`` <-> upernet_mm
``UPerHead``/``FCNHead``: head options and weights.

The heads have the same layers: conv-BN-ReLU blocks (``conv``/``bn`` in mm,
``conv``/``batch_norm`` in transformers) and a 1x1 classifier (``conv_seg``
in mm, ``classifier`` in transformers). transformers has no dropout before
the classifier and fixes what mm configures: BatchNorm (eps 1e-5), ReLU,
``align_corners=False``, all backbone outputs into the decode head, the third
one into the auxiliary head, with 3x3 convolutions.
"""
from typing import Any, Dict, List, Optional, Tuple

from upernet_mm.models.decode_heads import FCNHead, UPerHead
from .rules import (BN_NAMES, Rule, UnsupportedOptionError, expect,
                    expect_batchnorm, rename_params, signature_defaults,
                    strip_scope)

# transformers 5 UperNetConfig defaults of the head fields
HF_DEFAULTS = dict(
    hidden_size=512,
    pool_scales=[1, 2, 3, 6],
    use_auxiliary_head=True,
    auxiliary_loss_weight=0.4,
    auxiliary_in_channels=None,
    auxiliary_channels=256,
    auxiliary_num_convs=1,
    auxiliary_concat_input=False,
    loss_ignore_index=255)

HF_AUX_IN_INDEX = 2  # UperNetFCNHead's default, which UperNet never changes

# mm defaults of the fields read here, from the signatures of our heads
# (and mmseg's BaseDecodeHead); UPerHead always selects all its inputs
MM_DECODE_DEFAULTS = dict(
    signature_defaults(UPerHead, [
        'pool_scales', 'fusion', 'out_channels', 'conv_cfg', 'norm_cfg',
        'act_cfg', 'align_corners', 'ignore_index'
    ]),
    input_transform='multiple_select')
MM_AUX_DEFAULTS = signature_defaults(FCNHead, [
    'num_convs', 'kernel_size', 'concat_input', 'dilation', 'out_channels',
    'conv_cfg', 'norm_cfg', 'act_cfg', 'align_corners', 'ignore_index',
    'input_transform'
])

NORM_CFG = dict(type='SyncBN', requires_grad=True)


def _loss(weight: float) -> Dict[str, Any]:
    return dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=weight)


def _shared_head_fields(hf_cfg: Dict[str, Any],
                        num_classes: int) -> Dict[str, Any]:
    """The fields the decode head and the auxiliary head of a converted
    UperNet share (a new dict, and a new ``norm_cfg``, per call)."""
    return dict(
        dropout_ratio=0.1,
        num_classes=num_classes,
        norm_cfg=dict(NORM_CFG),
        align_corners=False,
        ignore_index=hf_cfg['loss_ignore_index'])


def heads_to_mm(hf_cfg: Dict[str, Any], in_channels: List[int],
                num_classes: int, field: str) -> Tuple[Dict, Optional[Dict]]:
    """mm ``decode_head`` and ``auxiliary_head`` configs of an HF UperNet.

    Args:
        hf_cfg (dict): The UperNet config, head defaults filled in.
        in_channels (list[int]): Channels of the backbone outputs.
        num_classes (int): Number of labels.
        field (str): Where ``hf_cfg`` comes from, for errors.

    Returns:
        tuple[dict, dict | None]: The decode head and the auxiliary head
        (None without ``use_auxiliary_head``).
    """
    pool_scales = list(hf_cfg['pool_scales'])
    decode = dict(
        type='UPerHead',
        in_channels=list(in_channels),
        in_index=list(range(len(in_channels))),
        pool_scales=pool_scales,
        channels=hf_cfg['hidden_size'],
        **_shared_head_fields(hf_cfg, num_classes),
        loss_decode=_loss(1.0))
    if not hf_cfg['use_auxiliary_head']:
        return decode, None
    if len(in_channels) <= HF_AUX_IN_INDEX:
        raise UnsupportedOptionError(
            f'{field}: use_auxiliary_head=True reads feature map '
            f'{HF_AUX_IN_INDEX}, but the backbone outputs only '
            f'{len(in_channels)} (out_features)')
    aux_in = in_channels[HF_AUX_IN_INDEX]
    declared = hf_cfg['auxiliary_in_channels']
    if declared is not None and declared != aux_in:
        raise UnsupportedOptionError(
            f'{field}.auxiliary_in_channels={declared} differs from the '
            f'{aux_in} channels of feature map {HF_AUX_IN_INDEX}, which the '
            'auxiliary head receives; that model cannot run')
    num_convs, channels = hf_cfg['auxiliary_num_convs'], hf_cfg[
        'auxiliary_channels']
    if num_convs == 0 and aux_in != channels:
        raise UnsupportedOptionError(
            f'{field}: auxiliary_num_convs=0 needs auxiliary_channels '
            f'({channels}) equal to the input channels ({aux_in})')
    aux = dict(
        type='FCNHead',
        in_channels=aux_in,
        in_index=HF_AUX_IN_INDEX,
        channels=channels,
        num_convs=num_convs,
        concat_input=hf_cfg['auxiliary_concat_input'],
        **_shared_head_fields(hf_cfg, num_classes),
        loss_decode=_loss(hf_cfg['auxiliary_loss_weight']))
    return decode, aux


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _check_common(cfg: Dict[str, Any], field: str) -> None:
    """Checks shared by both heads for what transformers hard-codes."""
    expect(cfg['conv_cfg'], [None], f'{field}.conv_cfg',
           'transformers UperNet uses plain Conv2d')
    norm = cfg['norm_cfg']
    if norm is None:
        raise UnsupportedOptionError(
            f'{field}.norm_cfg=None cannot be converted: transformers '
            'UperNet always has BatchNorm after its convolutions (supported: '
            "dict(type='BN') or dict(type='SyncBN'))")
    expect_batchnorm(norm, field, 'UperNet')
    act = cfg['act_cfg']
    expect(
        act.get('type') if act else None, ['ReLU'], f'{field}.act_cfg.type',
        'transformers UperNet uses ReLU')
    expect(cfg['align_corners'], [False], f'{field}.align_corners',
           'transformers UperNet resizes with align_corners=False')
    if cfg['out_channels'] is not None and \
            cfg['out_channels'] != cfg['num_classes']:
        raise UnsupportedOptionError(
            f'{field}.out_channels={cfg["out_channels"]} with num_classes='
            f'{cfg["num_classes"]} cannot be converted: transformers '
            'UperNet predicts one logit per label (softmax)')


def _losses(cfg: Dict[str, Any]) -> List[Dict]:
    loss = cfg.get('loss_decode', _loss(1.0))
    return list(loss) if isinstance(loss, (list, tuple)) else [loss]


def _loss_notes(cfg: Dict[str, Any], field: str,
                weight: float) -> Tuple[float, List[str]]:
    """The loss weight to carry over and notes on what cannot be."""
    losses, notes = _losses(cfg), []
    simple = len(losses) == 1 and strip_scope(
        losses[0].get('type')) == 'CrossEntropyLoss' and not any(
            losses[0].get(k) for k in ('use_sigmoid', 'use_mask',
                                       'class_weight', 'avg_non_ignore'))
    if not simple:
        notes.append(f'{field}.loss_decode={losses!r} is not carried over: '
                     'transformers UperNet trains with plain cross-entropy '
                     '(training only; logits are unaffected)')
        return weight, notes
    return losses[0].get('loss_weight', 1.0), notes


def heads_to_hf(model_cfg: Dict[str, Any],
                in_channels: List[int],
                field: str = 'model') -> Tuple[Dict[str, Any], int, List[str]]:
    """HF UperNet head fields of an mm model config.

    Args:
        model_cfg (dict): The mm ``model`` config.
        in_channels (list[int]): Channels of the backbone outputs.
        field (str): Dotted name of ``model_cfg``, for errors.

    Returns:
        tuple[dict, int, list[str]]: The UperNet config fields (without the
        backbone), the number of classes, and notes on training-only
        options that do not carry over.

    Raises:
        UnsupportedOptionError: For an option that changes the logits and
            transformers cannot express.
    """
    notes = []
    if model_cfg.get('neck') is not None:
        raise UnsupportedOptionError(
            f'{field}.neck={model_cfg["neck"]!r} cannot be converted: '
            'transformers UperNet feeds the backbone outputs to the heads '
            'directly')
    f = f'{field}.decode_head'
    decode = dict(MM_DECODE_DEFAULTS, **model_cfg['decode_head'])
    expect(
        strip_scope(decode.get('type')), ['UPerHead'], f'{f}.type',
        'transformers UperNet has a UPerNet decode head')
    n = len(in_channels)
    expect(
        _as_list(decode.get('in_index')), [list(range(n))], f'{f}.in_index',
        'transformers UperNet feeds all backbone '
        f'outputs ({n}) to the decode head in order')
    expect(
        _as_list(decode.get('in_channels')), [list(in_channels)],
        f'{f}.in_channels', 'they must be the backbone output channels')
    expect(
        decode.get('fusion'), [True], f'{f}.fusion',
        'transformers UperNet always fuses all pyramid levels')
    _check_common(decode, f)
    num_classes = decode['num_classes']
    weight, more = _loss_notes(decode, f, 1.0)
    notes += more
    if weight != 1.0:
        notes.append(f'{f}.loss_decode.loss_weight={weight} is not carried '
                     'over: transformers weights the decode loss 1.0')
    if decode.get('dropout_ratio', 0.1) != 0.1:
        notes.append(f'{f}.dropout_ratio is not carried over: transformers '
                     'UperNet has no dropout (training only)')
    hf = dict(
        hidden_size=decode['channels'],
        pool_scales=list(decode['pool_scales']),
        loss_ignore_index=decode['ignore_index'])

    aux_cfg = model_cfg.get('auxiliary_head')
    if aux_cfg is None:
        hf.update(use_auxiliary_head=False)
        return hf, num_classes, notes
    f = f'{field}.auxiliary_head'
    if isinstance(aux_cfg, (list, tuple)):
        raise UnsupportedOptionError(
            f'{f} holds {len(aux_cfg)} heads: transformers UperNet has at '
            'most one auxiliary head')
    aux = dict(MM_AUX_DEFAULTS, **aux_cfg)
    expect(
        strip_scope(aux.get('type')), ['FCNHead'], f'{f}.type',
        'transformers UperNet\'s auxiliary head is an FCN head')
    index = aux.get('in_index')
    if isinstance(index, int) and index < 0:
        index += n
    expect(
        index, [HF_AUX_IN_INDEX], f'{f}.in_index',
        'transformers UperNet feeds backbone output 2 to the auxiliary '
        'head')
    expect(
        aux.get('input_transform'), [None], f'{f}.input_transform',
        'the auxiliary head reads one feature map')
    expect(aux['kernel_size'], [3], f'{f}.kernel_size',
           'transformers UperNet\'s auxiliary convolutions are 3x3')
    expect(aux['dilation'], [1], f'{f}.dilation',
           'transformers UperNet\'s auxiliary convolutions are not dilated')
    expect(
        aux.get('in_channels'), [in_channels[HF_AUX_IN_INDEX]],
        f'{f}.in_channels', 'they must be the channels of backbone '
        'output 2')
    _check_common(aux, f)
    expect(aux['num_classes'], [num_classes], f'{f}.num_classes',
           'transformers UperNet has one num_labels for both heads')
    if aux['ignore_index'] != decode['ignore_index']:
        notes.append(f'{f}.ignore_index={aux["ignore_index"]} is not '
                     'carried over: transformers has one loss_ignore_index')
    aux_weight, more = _loss_notes(aux, f, 0.4)
    notes += more
    hf.update(
        use_auxiliary_head=True,
        auxiliary_loss_weight=aux_weight,
        auxiliary_in_channels=in_channels[HF_AUX_IN_INDEX],
        auxiliary_channels=aux['channels'],
        auxiliary_num_convs=aux['num_convs'],
        auxiliary_concat_input=aux['concat_input'])
    return hf, num_classes, notes


def _conv_module(mm: str, hf: str) -> List[Rule]:
    return (rename_params(f'{mm}.conv', f'{hf}.conv', ('weight', )) +
            rename_params(f'{mm}.bn', f'{hf}.batch_norm', BN_NAMES))


def head_rules(model_cfg: Dict[str, Any]) -> List[Rule]:
    """State-dict rules of both heads of an mm model config."""
    decode = dict(MM_DECODE_DEFAULTS, **model_cfg['decode_head'])
    a, b = 'decode_head', 'decode_head'
    rules = []
    for i in range(len(decode['pool_scales'])):
        rules += _conv_module(f'{a}.psp_modules.{i}.1',
                              f'{b}.psp_modules.{i}.1')
    rules += _conv_module(f'{a}.bottleneck', f'{b}.bottleneck')
    for i in range(len(decode['in_channels']) - 1):
        rules += _conv_module(f'{a}.lateral_convs.{i}',
                              f'{b}.lateral_convs.{i}')
        rules += _conv_module(f'{a}.fpn_convs.{i}', f'{b}.fpn_convs.{i}')
    rules += _conv_module(f'{a}.fpn_bottleneck', f'{b}.fpn_bottleneck')
    rules += rename_params(f'{a}.conv_seg', f'{b}.classifier')

    if model_cfg.get('auxiliary_head') is None:
        return rules
    aux = dict(MM_AUX_DEFAULTS, **model_cfg['auxiliary_head'])
    a, b = 'auxiliary_head', 'auxiliary_head'
    for i in range(aux['num_convs']):
        rules += _conv_module(f'{a}.convs.{i}', f'{b}.convs.{i}')
    if aux['concat_input']:
        rules += _conv_module(f'{a}.conv_cat', f'{b}.conv_cat')
    rules += rename_params(f'{a}.conv_seg', f'{b}.classifier')
    return rules
