import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule

from upernet_mm.registry import MODELS
from ..layers import PyramidPoolingModule
from .checked_decode_head import CheckedDecodeHead, _is_int


@MODELS.register_module()
class UPerHead(CheckedDecodeHead):
    """Decode head of UPerNet (`Unified Perceptual Parsing for Scene
    Understanding <https://arxiv.org/abs/1807.10221>`_).

    Pyramid pooling on the coarsest selected level, followed by a 3x3
    bottleneck, is the top of a feature pyramid: the other levels pass a 1x1
    lateral conv, receive the upsampled coarser level (top-down pathway) and a
    3x3 conv. All levels are resized to the finest one, concatenated and fused
    by ``fpn_bottleneck`` before ``cls_seg``. Parameter names equal mmseg's
    ``UPerHead``, so its checkpoints load with ``strict=True``.

    Args:
        pool_scales (Sequence[int]): Grid sizes of the pyramid pooling on the
            coarsest level; empty (``()``) leaves the pyramid pooling out, so
            the bottleneck sees the coarsest level alone (an ablation, not in
            the paper). Default: (1, 2, 3, 6).
        fusion (bool): Fuse all pyramid levels (resized to the finest one and
            concatenated) in ``fpn_bottleneck``, as UPerNet does. False
            feeds ``fpn_bottleneck`` the finest level alone, the "FPN" and
            "FPN+PPM" rows of the paper's Table 2; ``fpn_bottleneck`` then
            has ``channels`` inputs instead of ``levels * channels`` and
            only the finest level has an ``fpn_convs`` entry (the others
            would be unused); names are those of the fused head. Default:
            True.
        **kwargs: Arguments of :class:`BaseDecodeHead`; ``in_channels`` and
            ``in_index`` are lists with one entry per level, finest first.
    """

    def __init__(self, pool_scales=(1, 2, 3, 6), fusion=True, **kwargs):
        input_transform = kwargs.pop('input_transform', 'multiple_select')
        if input_transform != 'multiple_select':
            raise ValueError(
                'UPerHead: input_transform must be "multiple_select" (the '
                f'head fuses the levels itself), got {input_transform!r}')
        if not isinstance(pool_scales, (list, tuple)) \
                or any(not _is_int(s) or s <= 0 for s in pool_scales):
            raise ValueError('UPerHead: pool_scales must be a list of '
                             f'positive ints, got {pool_scales!r}')
        if not isinstance(fusion, bool):
            raise ValueError(
                f'UPerHead: fusion must be True or False, got {fusion!r}')
        super().__init__(input_transform='multiple_select', **kwargs)
        self.pool_scales = tuple(pool_scales)
        self.fusion = fusion
        conv_kwargs = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

        self.psp_modules = PyramidPoolingModule(
            pool_scales,
            self.in_channels[-1],
            self.channels,
            align_corners=self.align_corners,
            **conv_kwargs) if pool_scales else None
        self.bottleneck = ConvModule(
            self.in_channels[-1] + len(pool_scales) * self.channels,
            self.channels,
            3,
            padding=1,
            **conv_kwargs)
        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for level, in_channels in enumerate(self.in_channels[:-1]):
            self.lateral_convs.append(
                ConvModule(
                    in_channels,
                    self.channels,
                    1,
                    inplace=False,
                    **conv_kwargs))
            if not fusion and level > 0:
                continue  # without fusion only the finest level is used
            self.fpn_convs.append(
                ConvModule(
                    self.channels,
                    self.channels,
                    3,
                    padding=1,
                    inplace=False,
                    **conv_kwargs))
        fused_levels = len(self.in_channels) if fusion else 1
        self.fpn_bottleneck = ConvModule(
            fused_levels * self.channels,
            self.channels,
            3,
            padding=1,
            **conv_kwargs)

    def _upsample(self, x, size):
        return F.interpolate(
            x, size=size, mode='bilinear', align_corners=self.align_corners)

    def psp_forward(self, x):
        """Pyramid pooling and bottleneck on the coarsest level."""
        if self.psp_modules is None:
            return self.bottleneck(x)
        return self.bottleneck(torch.cat([x, *self.psp_modules(x)], dim=1))

    def _forward_feature(self, inputs):
        """Fuse the selected levels into one map of ``self.channels``.

        Args:
            inputs (list[Tensor]): Multi-level features of the backbone.

        Returns:
            Tensor: Shape (N, channels, H, W) of the finest selected level.
        """
        inputs = self._transform_inputs(inputs)
        laterals = [
            conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)
        ]
        laterals.append(self.psp_forward(inputs[-1]))

        # top-down pathway
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + self._upsample(
                laterals[i], laterals[i - 1].shape[2:])

        if not self.fusion:
            # the finest level alone (its fpn_conv, or the PPM output when
            # the head has one level)
            finest = self.fpn_convs[0](laterals[0]) \
                if len(laterals) > 1 else laterals[0]
            return self.fpn_bottleneck(finest)
        outs = [conv(lat) for conv, lat in zip(self.fpn_convs, laterals)]
        outs.append(laterals[-1])
        size = outs[0].shape[2:]
        outs = [outs[0]] + [self._upsample(out, size) for out in outs[1:]]
        if getattr(self.fpn_bottleneck, 'accepts_parts', False):
            # deploy form (upernet_mm.deploy): no concatenated copy
            return self.fpn_bottleneck(outs)
        fused = torch.cat(outs, dim=1)
        # free the parts before the last conv: at inference they are not
        # needed any more (levels x channels maps at the finest size)
        del outs
        return self.fpn_bottleneck(fused)

    def forward(self, inputs):
        """Return per-pixel class logits at the finest selected level."""
        return self.cls_seg(self._forward_feature(inputs))
