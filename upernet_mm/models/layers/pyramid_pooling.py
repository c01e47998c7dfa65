import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule


class PyramidPoolingModule(nn.ModuleList):
    """Pyramid pooling of PSPNet: average-pool the input to a few grid sizes,
    project each with a 1x1 conv and upsample back to the input size.

    The children are ``Sequential(AdaptiveAvgPool2d, ConvModule)`` so that the
    state-dict keys (``{i}.1.conv.weight``, ...) equal those of mmseg's PPM.

    Args:
        pool_scales (Sequence[int]): Output grid sizes of the pooling.
        in_channels (int): Channels of the input.
        channels (int): Channels of each pooled branch.
        conv_cfg (dict | None): Config of conv layers.
        norm_cfg (dict | None): Config of norm layers.
        act_cfg (dict | None): Config of activation layers.
        align_corners (bool): ``align_corners`` of the bilinear upsampling.
    """

    def __init__(self, pool_scales, in_channels, channels, conv_cfg, norm_cfg,
                 act_cfg, align_corners):
        super().__init__()
        self.pool_scales = tuple(pool_scales)
        self.align_corners = align_corners
        for pool_scale in self.pool_scales:
            self.append(
                nn.Sequential(
                    nn.AdaptiveAvgPool2d(pool_scale),
                    ConvModule(
                        in_channels,
                        channels,
                        1,
                        conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg)))

    def forward(self, x):
        """Return the upsampled output of every branch, in order."""
        size = x.shape[2:]
        return [
            F.interpolate(
                branch(x),
                size=size,
                mode='bilinear',
                align_corners=self.align_corners) for branch in self
        ]
