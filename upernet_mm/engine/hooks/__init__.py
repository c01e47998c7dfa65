from .deploy_hook import DeployHook
from .resumable_checkpoint_hook import ResumableCheckpointHook
from .unified_parsing_stage_hook import UnifiedParsingStageHook
from .weights_only_checkpoint_hook import (ResumeStateMixin,
                                           WeightsOnlyCheckpointHook)

__all__ = [
    'DeployHook', 'ResumableCheckpointHook', 'ResumeStateMixin',
    'UnifiedParsingStageHook', 'WeightsOnlyCheckpointHook'
]
