"""UPerNet as an OpenMMLab plugin: decode heads, configs and tools on top of
mmsegmentation, mmengine, mmcv and mmpretrain."""
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']
