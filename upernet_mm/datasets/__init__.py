"""Datasets and data transforms of upernet_mm."""
from .synthetic_scenes import SyntheticScenesDataset
from .synthetic_scenes_folder import (SyntheticScenesFolderError,
                                      check_synthetic_scenes,
                                      ensure_synthetic_scenes,
                                      write_synthetic_scenes)

__all__ = [
    'SyntheticScenesDataset', 'SyntheticScenesFolderError',
    'check_synthetic_scenes', 'ensure_synthetic_scenes',
    'write_synthetic_scenes'
]
