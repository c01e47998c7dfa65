"""Writing the upernet_mm config of a converted model."""
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from .fields import strip_scope

BASE_MODELS = {
    'ConvNeXt': 'upernet_convnext.py',
    'SwinTransformer': 'upernet_swin.py',
    'ResNet': 'upernet_r50.py',
}


def configs_root() -> str:
    """The installed ``configs`` directory of upernet_mm (``.mim/configs``
    of the package, or ``configs`` next to it in a source checkout).

    Raises:
        FileNotFoundError: If neither exists.
    """
    import upernet_mm
    package = osp.dirname(osp.abspath(upernet_mm.__file__))
    candidates = [
        osp.join(package, '.mim', 'configs'),
        osp.join(osp.dirname(package), 'configs')
    ]
    for root in candidates:
        if osp.isfile(osp.join(root, '_base_', 'default_runtime.py')):
            return osp.realpath(root)
    raise FileNotFoundError(
        f'upernet_mm base configs not found in {candidates}; reinstall '
        'upernet_mm or write a self-contained config')


def _fmt(value: Any, level: int, col: int, width: int = 79) -> str:
    """``value`` as Python source in the style of the configs
    (``dict(key=value)``); it starts at column ``col`` of a line indented by
    ``level``, and is split one item per line when it does not fit."""
    flat = _flat(value)
    if col + len(flat) <= width:
        return flat
    inner = level + 4
    pad = ' ' * inner
    if isinstance(value, dict) and all(
            isinstance(k, str) and k.isidentifier() for k in value):
        items = [f'{k}={_fmt(v, inner, inner + len(k) + 1, width)}'
                 for k, v in value.items()]
        return 'dict(\n' + pad + (',\n' + pad).join(items) + ')'
    if isinstance(value, (list, tuple)) and value:
        items = [_fmt(v, inner, inner, width) for v in value]
        start, end = ('(', ')') if isinstance(value, tuple) else ('[', ']')
        if isinstance(value, tuple) and len(value) == 1:
            end = ',)'
        return start + '\n' + pad + (',\n' + pad).join(items) + end
    return flat


def _packed(values: Sequence[Any], level: int, width: int = 79) -> str:
    """A list or tuple of short items, as many per line as fit."""
    start, end = ('(', ')') if isinstance(values, tuple) else ('[', ']')
    pad = ' ' * (level + 4)
    lines, line = [], ''
    for text in (_flat(v) + ',' for v in values):
        if line and len(pad) + len(line) + 1 + len(text) > width:
            lines.append(line)
            line = text
        else:
            line = f'{line} {text}' if line else text
    lines.append(line)
    return start + '\n' + '\n'.join(pad + x for x in lines) + end


def _flat(value: Any) -> str:
    if isinstance(value, dict) and all(
            isinstance(k, str) and k.isidentifier() for k in value):
        return 'dict(' + ', '.join(f'{k}={_flat(v)}'
                                   for k, v in value.items()) + ')'
    if isinstance(value, list):
        return '[' + ', '.join(_flat(v) for v in value) + ']'
    if isinstance(value, tuple):
        inner = ', '.join(_flat(v) for v in value)
        return f'({inner},)' if len(value) == 1 else f'({inner})'
    return repr(value)


def config_text(model: Dict[str, Any], classes: Sequence[str],
                palette: List[List[int]], test_pipeline: List[Dict],
                origin: str, root: Optional[str] = None) -> str:
    """Text of a config inheriting upernet_mm's base configs.

    Args:
        model (dict): The complete ``EncoderDecoder`` config.
        classes (Sequence[str]): Class names.
        palette (list): One RGB colour per class.
        test_pipeline (list[dict]): Inference pipeline.
        origin (str): The converted directory, named in a comment.
        root (str, optional): The base configs directory. Defaults to
            :func:`configs_root`.
    """
    root = root or configs_root()
    backbone_type = strip_scope(model['backbone']['type'])
    bases = [
        osp.join(root, '_base_', 'models', BASE_MODELS[backbone_type]),
        osp.join(root, '_base_', 'default_runtime.py')
    ]
    backbone = dict(_delete_=True, **model['backbone'])
    lines = [
        f'# UPerNet converted from the transformers directory {origin}',
        '# by upernet_mm tools/model_converters/convert_hf.py. It inherits upernet_mm\'s base',
        '# configs by absolute path (`--self-contained` writes them out).',
        '# It has no dataloaders: to train or test with the tools, add a',
        '# dataset and a schedule base (_base_/datasets, _base_/schedules)',
        '# to _base_ here (not beside this file in another config\'s',
        '# _base_: both define test_pipeline), then inherit this file.',
        f'_base_ = {_fmt(bases, 0, 9)}',
        '',
        f'classes = {_packed(tuple(classes), 0)}',
        f'palette = {_packed(palette, 0)}',
        'metainfo = dict(classes=classes, palette=palette)',
        '',
        f'data_preprocessor = {_fmt(model["data_preprocessor"], 0, 20)}',
        'model = dict(',
        '    data_preprocessor=data_preprocessor,',
        '    pretrained=None,',
        f'    backbone={_fmt(backbone, 4, 13)},',
        f'    decode_head={_fmt(model["decode_head"], 4, 16)},',
        f'    auxiliary_head={_fmt(model["auxiliary_head"], 4, 19)},',
        f'    test_cfg={_fmt(model["test_cfg"], 4, 13)})',
        '',
        f'test_pipeline = {_fmt(test_pipeline, 0, 16)}',
        '',
    ]
    return '\n'.join(lines)


def write_config(path: str, text: str, self_contained: bool = False) -> str:
    """Write ``text`` to ``path``; with ``self_contained`` the bases are
    merged in and the result dumped instead. Returns ``path``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    if self_contained:
        from mmengine.config import Config
        Config.fromfile(path).dump(path)
    return path
