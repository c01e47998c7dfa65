"""Building a segmentor from a model config: the one place where upernet_mm
turns ``cfg.model`` into a module (used by :func:`upernet_mm.apis.init_model`,
the transformers conversions, the ONNX export and the benchmark)."""
import copy
from typing import Any, Dict

from mmengine.registry import DefaultScope

from upernet_mm.checkpoint_loaders import install_checkpoint_loaders
from upernet_mm.registry import MODELS, SCOPE


def build_segmentor(model_cfg: Dict[str, Any], scope: str = SCOPE):
    """Build ``model_cfg`` (a ``cfg.model`` dict) with the registries of
    ``scope`` (upernet_mm's by default, where mmseg's and mmpretrain's types
    are found too), with upernet_mm's checkpoint loaders installed for the
    ``init_cfg`` weights it may load.

    Args:
        model_cfg (dict): The model config; not modified.
        scope (str): The default scope to build in. Default: 'upernet_mm'.

    Returns:
        nn.Module: The model, on CPU, in training mode, initialised as its
        config says (weights are loaded by ``init_weights``, not here).
    """
    install_checkpoint_loaders()
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(copy.deepcopy(model_cfg))
