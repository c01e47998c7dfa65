"""The small heads of Unified Perceptual Parsing: a 3x3 conv + norm + ReLU
followed by a 1x1 classifier (optionally after global average pooling)."""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor


class TaskHead(BaseModule):
    """``convs`` (3x3 conv + norm + activation, ``num_convs`` times), then
    dropout and a 1x1 classifier ``cls``; with ``pool=True`` the features
    are averaged over the image before the classifier (an image-level
    label, e.g. the scene).

    Args:
        in_channels (int): Channels of the input map.
        channels (int): Channels of the 3x3 convs.
        num_classes (int): Output channels of the classifier.
        num_convs (int): Number of 3x3 convs. Default: 1.
        pool (bool): Global average pooling before the classifier; the
            output is then (N, num_classes). Default: False.
        dropout_ratio (float): Dropout before the classifier. Default: 0.
        conv_cfg, norm_cfg, act_cfg (dict): As for :class:`ConvModule`.
        init_cfg (dict): The classifier starts from N(0, 0.01) as mmseg's
            ``conv_seg``.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 num_classes: int,
                 num_convs: int = 1,
                 pool: bool = False,
                 dropout_ratio: float = 0.0,
                 conv_cfg=None,
                 norm_cfg=None,
                 act_cfg=dict(type='ReLU'),
                 init_cfg=dict(
                     type='Normal', std=0.01, override=dict(name='cls'))):
        super().__init__(init_cfg=init_cfg)
        self.convs = nn.Sequential(*[
            ConvModule(
                in_channels if i == 0 else channels,
                channels,
                3,
                padding=1,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg) for i in range(num_convs)
        ])
        self.pool = nn.AdaptiveAvgPool2d(1) if pool else None
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 \
            else None
        self.cls = nn.Conv2d(channels, num_classes, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.convs(x)
        if self.pool is not None:
            x = self.pool(x)
        if self.dropout is not None:
            x = self.dropout(x)
        x = self.cls(x)
        return x.flatten(1) if self.pool is not None else x
