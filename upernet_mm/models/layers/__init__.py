from .part_groups import PartGroups
from .pyramid_pooling import PyramidPoolingModule
from .task_head import TaskHead

__all__ = ['PartGroups', 'PyramidPoolingModule', 'TaskHead']
