import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from upernet_mm.registry import MODELS
from .checked_decode_head import CheckedDecodeHead, _is_int


@MODELS.register_module()
class FCNHead(CheckedDecodeHead):
    """Fully convolutional head (`FCN <https://arxiv.org/abs/1411.4038>`_),
    used by UPerNet as the auxiliary head. Parameter names equal mmseg's
    ``FCNHead``.

    Args:
        num_convs (int): Number of convs before ``cls_seg``; 0 makes the
            head an identity, which needs ``in_channels == channels``.
            Default: 2.
        kernel_size (int): Odd kernel size of the convs. Default: 3.
        concat_input (bool): Whether to concatenate the input with the convs'
            output and fuse them with one more conv. Default: True.
        dilation (int): Dilation of the convs. Default: 1.
        **kwargs: Arguments of :class:`BaseDecodeHead`.
    """

    def __init__(self,
                 num_convs=2,
                 kernel_size=3,
                 concat_input=True,
                 dilation=1,
                 **kwargs):
        if not _is_int(num_convs) or num_convs < 0:
            raise ValueError('FCNHead: num_convs must be an int >= 0, got '
                             f'{num_convs!r}')
        if not _is_int(kernel_size) or kernel_size <= 0 \
                or kernel_size % 2 == 0:
            raise ValueError('FCNHead: kernel_size must be a positive odd '
                             'int so that the output keeps the input size, '
                             f'got {kernel_size!r}')
        if not _is_int(dilation) or dilation <= 0:
            raise ValueError('FCNHead: dilation must be a positive int, got '
                             f'{dilation!r}')
        self.num_convs = num_convs
        self.concat_input = concat_input
        self.kernel_size = kernel_size
        super().__init__(**kwargs)
        if num_convs == 0 and self.in_channels != self.channels:
            raise ValueError(
                'FCNHead: num_convs=0 makes the convs an identity, so '
                f'in_channels ({self.in_channels}) must equal channels '
                f'({self.channels})')
        conv_kwargs = dict(
            kernel_size=kernel_size,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

        if num_convs == 0:
            self.convs = nn.Identity()
        else:
            padding = (kernel_size // 2) * dilation
            self.convs = nn.Sequential(*[
                ConvModule(
                    self.in_channels if i == 0 else self.channels,
                    self.channels,
                    padding=padding,
                    dilation=dilation,
                    **conv_kwargs) for i in range(num_convs)
            ])
        if concat_input:
            self.conv_cat = ConvModule(
                self.in_channels + self.channels,
                self.channels,
                padding=kernel_size // 2,
                **conv_kwargs)

    def _forward_feature(self, inputs):
        """Features before ``cls_seg``, shape (N, channels, H, W)."""
        x = self._transform_inputs(inputs)
        feats = self.convs(x)
        if self.concat_input:
            feats = self.conv_cat(torch.cat([x, feats], dim=1))
        return feats

    def forward(self, inputs):
        """Return per-pixel class logits."""
        return self.cls_seg(self._forward_feature(inputs))
