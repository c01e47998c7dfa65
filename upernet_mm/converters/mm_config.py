"""Writing the upernet_mm config of a converted model."""
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from mmengine.config import Config

from upernet_mm.safe_io.inert_config import write_inert_config
from .rules import strip_scope

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
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
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


HEADER = (
    'UPerNet converted from a transformers directory (converted_from) by',
    'upernet_mm tools/model_converters/convert_hf.py; every string in it is',
    'data (written by upernet_mm.safe_io.inert_config).',
)
INHERITING = (
    'It inherits upernet_mm\'s base configs by absolute path',
    '(`--self-contained` writes them out). It has no dataloaders: to train',
    'or test with the tools, add a dataset and a schedule base',
    '(_base_/datasets, _base_/schedules) to _base_ here (not beside this',
    'file in another config\'s _base_: both define test_pipeline), then',
    'inherit this file.',
)
SELF_CONTAINED = (
    'The base configs are merged in. It has no dataloaders: add them (and',
    'a schedule) before training or testing with the tools.',
)


def config_dict(model: Dict[str, Any],
                classes: Sequence[str],
                palette: List[List[int]],
                test_pipeline: List[Dict],
                origin: str,
                root: Optional[str] = None) -> Dict[str, Any]:
    """The top-level names of a config inheriting upernet_mm's base configs.

    Args:
        model (dict): The complete segmentor config.
        classes (Sequence[str]): Class names.
        palette (list): One RGB colour per class.
        test_pipeline (list[dict]): Inference pipeline.
        origin (str): The converted directory (``converted_from``).
        root (str, optional): The base configs directory. Defaults to
            :func:`configs_root`.
    """
    root = root or configs_root()
    backbone_type = strip_scope(model['backbone']['type'])
    bases = [
        osp.join(root, '_base_', 'models', BASE_MODELS[backbone_type]),
        osp.join(root, '_base_', 'default_runtime.py')
    ]
    classes = tuple(str(c) for c in classes)
    palette = [list(map(int, c)) for c in palette]
    model = dict(
        model,
        pretrained=None,
        backbone=dict(_delete_=True, **model['backbone']))
    model.pop('train_cfg', None)
    return dict(
        _base_=bases,
        converted_from=str(origin),
        metainfo=dict(classes=classes, palette=palette),
        data_preprocessor=model.get('data_preprocessor'),
        model=model,
        test_pipeline=list(test_pipeline))


def write_config(path: str,
                 cfg: Dict[str, Any],
                 self_contained: bool = False) -> str:
    """Write ``cfg`` (from :func:`config_dict`) to ``path`` as an inert
    config; with ``self_contained`` the bases are merged in first.
    Returns ``path``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    write_inert_config(path, cfg, HEADER + INHERITING)
    if self_contained:
        merged = Config.fromfile(path).to_dict()
        write_inert_config(path, merged, HEADER + SELF_CONTAINED)
    return path
