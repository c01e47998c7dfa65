from .checkpoint_format import from_weights_only, to_weights_only
from .checkpoint_loading import (TRUSTED_CHECKPOINTS_ENV,
                                 UnsafeCheckpointError, load_from_local,
                                 trust_checkpoint)
from .hooks import *  # noqa: F401,F403
from upernet_mm.converters import hf_scheme  # noqa: F401  (registers hf://)

__all__ = [
    'from_weights_only', 'to_weights_only', 'TRUSTED_CHECKPOINTS_ENV',
    'UnsafeCheckpointError', 'load_from_local', 'trust_checkpoint'
]
