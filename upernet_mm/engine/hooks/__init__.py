from .atomic_checkpoint_hook import AtomicCheckpointHook
from .deploy_hook import DeployHook
from .unified_parsing_stage_hook import UnifiedParsingStageHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = [
    'AtomicCheckpointHook', 'DeployHook', 'UnifiedParsingStageHook',
    'WeightsOnlyCheckpointHook'
]
