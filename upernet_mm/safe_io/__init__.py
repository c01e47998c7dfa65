"""The leaf every other part of upernet_mm builds on for files: the
weights-only checkpoint format (``checkpoint_format``), loading checkpoints
from outside without running their code (``checkpoint_loading``), crash-safe
writes (``atomic``) and generated configs that stay data whatever strings
they hold (``inert_config``). It imports nothing else of upernet_mm."""
from .atomic import AtomicLocalBackend, atomic_write, remove_stale_temporaries
from .checkpoint_format import from_weights_only, to_weights_only
from .checkpoint_loading import (UnsafeCheckpointError, load_from_local,
                                 register_safe_loaders, require_inside,
                                 sanitize, sha256_of_file, trust_checkpoint,
                                 trusted_sha256)

__all__ = [
    'AtomicLocalBackend', 'UnsafeCheckpointError', 'atomic_write',
    'from_weights_only', 'load_from_local', 'register_safe_loaders',
    'remove_stale_temporaries', 'require_inside', 'sanitize', 'sha256_of_file',
    'to_weights_only', 'trust_checkpoint', 'trusted_sha256'
]
