"""Datasets and data transforms of upernet_mm."""
from .camvid import CamVidDataset
from .source_batch_sampler import SourceBatchSampler
from .synthetic_scenes import SyntheticScenesDataset
from .synthetic_scenes_folder import (SyntheticScenesFolderError,
                                      check_synthetic_scenes,
                                      ensure_synthetic_scenes,
                                      write_synthetic_scenes)
from .unified_parsing import UnifiedParsingDataset
from .unified_parsing_embedded import (UnifiedParsingFolderError,
                                       ensure_unified_parsing,
                                       write_unified_parsing)
from .unified_parsing_layout import UnifiedParsingDataError
from .unified_parsing_transforms import (LoadUnifiedParsingAnnotations,
                                         PackUnifiedParsingInputs, TaskBranch)

__all__ = [
    'CamVidDataset', 'SyntheticScenesDataset', 'SyntheticScenesFolderError',
    'check_synthetic_scenes', 'ensure_synthetic_scenes',
    'write_synthetic_scenes', 'SourceBatchSampler', 'UnifiedParsingDataset',
    'UnifiedParsingDataError', 'UnifiedParsingFolderError',
    'ensure_unified_parsing', 'write_unified_parsing',
    'LoadUnifiedParsingAnnotations', 'PackUnifiedParsingInputs', 'TaskBranch'
]
