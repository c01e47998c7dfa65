from mmengine.registry import init_default_scope as _init_default_scope
from mmseg.utils import register_all_modules as register_mmseg_modules

import upernet_mm.datasets  # noqa: F401
import upernet_mm.engine  # noqa: F401
import upernet_mm.evaluation  # noqa: F401
import upernet_mm.models  # noqa: F401
from upernet_mm.checkpoint_loaders import install_checkpoint_loaders
from upernet_mm.registry import SCOPE


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register the modules of mmseg and upernet_mm into the registries and
    install upernet_mm's checkpoint loaders (weights-only, ``hf://``).

    Args:
        init_default_scope (bool): Whether to make ``upernet_mm`` the global
            default scope, so that registries build from our nodes first and
            fall back to mmseg's and mmengine's. Defaults to True.
    """
    register_mmseg_modules(init_default_scope=False)
    install_checkpoint_loaders()
    if init_default_scope:
        _init_default_scope(SCOPE)
