"""The one switch that makes mmengine load checkpoints the upernet_mm way.

:func:`install_checkpoint_loaders` registers in mmengine's
``CheckpointLoader`` the weights-only loaders of :mod:`upernet_mm.safe_io`
(local files, ``https://``, ``open-mmlab://``, ...; ``http://`` refused) and
the ``hf://DIR`` scheme of :mod:`upernet_mm.converters`. It is idempotent and
cheap, and it is called wherever upernet_mm is used, never as a side effect
of an import:

* by :func:`upernet_mm.utils.register_all_modules`, the apis and the tools;
* for the weights-only part (:func:`upernet_mm.safe_io.register_safe_loaders`)
  also by every lookup in upernet_mm's registries (``upernet_mm.registry``):
  a config with ``default_scope='upernet_mm'``, or a type with the
  ``upernet_mm.`` prefix in any scope, builds through them before any
  checkpoint is loaded, so a plain script calling mmseg's ``init_model`` or
  mmengine's ``Runner`` with one of our configs loads safely. Such a script
  that also uses ``hf://`` calls ``register_all_modules()`` first (without
  it, ``hf://DIR`` is refused with an error saying so).
"""
from upernet_mm.converters.hf_files import PREFIX as HF_PREFIX
from upernet_mm.converters.hf_files import load_from_hf
from upernet_mm.safe_io.checkpoint_loading import (SAFE_SCHEMES,
                                                   register_schemes)

SCHEMES = SAFE_SCHEMES + (((HF_PREFIX, ), load_from_hf), )


def install_checkpoint_loaders() -> None:
    """Register upernet_mm's checkpoint loaders in mmengine (again if
    something replaced them); does nothing when they are in place."""
    register_schemes(SCHEMES)
