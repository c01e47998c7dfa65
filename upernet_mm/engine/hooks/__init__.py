from .atomic_checkpoint_hook import AtomicCheckpointHook
from .deploy_hook import DeployHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = ['AtomicCheckpointHook', 'DeployHook', 'WeightsOnlyCheckpointHook']
