from .channels_last_hook import ChannelsLastHook
from .deploy_hook import DeployHook
from .depthwise_fp32_hook import DepthwiseFP32Hook
from .resumable_checkpoint_hook import ResumableCheckpointHook
from .resume_state_mixin import ResumeStateMixin
from .unified_parsing_stage_hook import UnifiedParsingStageHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = [
    'ChannelsLastHook', 'DeployHook', 'DepthwiseFP32Hook',
    'ResumableCheckpointHook', 'ResumeStateMixin', 'UnifiedParsingStageHook',
    'WeightsOnlyCheckpointHook'
]
