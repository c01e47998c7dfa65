"""Segmentor of Unified Perceptual Parsing: one backbone, a multi-task head,
several tasks through ``loss``/``predict``/``test_step``."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.dist import all_reduce, get_world_size
from mmengine.structures import LabelData, PixelData
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.structures import SegDataSample
from torch import Tensor

from upernet_mm.registry import MODELS
from ..head_input_check import check_head_inputs


def _loss_scaler_needs_gradients(inputs: Tensor) -> bool:
    """Whether the step runs under fp16 autocast (mmengine's
    ``AmpOptimWrapper`` on CUDA), whose ``GradScaler`` raises "No inf checks
    were recorded" on a step in which no parameter has a gradient."""
    device = inputs.device.type
    return torch.is_autocast_enabled(device) and \
        torch.get_autocast_dtype(device) == torch.float16


def _meta_of(sample, height: int, width: int) -> dict:
    if sample is not None:
        return sample.metainfo
    shape = (height, width)
    return dict(
        ori_shape=shape,
        img_shape=shape,
        pad_shape=shape,
        padding_size=[0, 0, 0, 0])


@MODELS.register_module()
class UnifiedParsingSegmentor(BaseSegmentor):
    """Backbone (+ neck) and a :class:`UnifiedParsingHead`, optionally an
    auxiliary head trained on the object labels (mmseg's FCNHead etc.).

    ``loss`` trains the tasks of the batch's source (see :meth:`loss`);
    ``predict`` returns one
    :class:`SegDataSample` per image with

    * ``pred_sem_seg`` (objects), ``pred_material_seg``: class indices,
      (1, H, W) at the original image size; ``seg_logits``: object logits;
    * ``pred_part_seg``: (1, H, W), the part index *within the group of the
      predicted object* at that pixel (0 = "other", 1.. = its parts), 255
      where the predicted object class has no parts;
    * ``pred_scene``, ``pred_texture``: :class:`LabelData` with ``score``
      (softmax over all classes, shape (C,)) and ``label`` (top-1, shape
      (1,)). The texture score is the per-pixel softmax averaged over the
      image.

    Inference runs on the whole image (``test_cfg.mode='whole'``); sliding
    windows are not supported for the image-level tasks.

    Args:
        backbone, decode_head (dict): Configs; ``decode_head`` must build a
            :class:`UnifiedParsingHead` (or a head with its interface).
        neck, auxiliary_head (dict, optional): Configs.
        train_cfg, test_cfg (dict, optional): As mmseg's
            ``EncoderDecoder``.
        data_preprocessor (dict, optional): Use
            ``UnifiedParsingDataPreProcessor``, which pads every label map.
        pretrained (str, optional): Backbone weights.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 auxiliary_head: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        mode = (test_cfg or {}).get('mode', 'whole')
        if mode != 'whole':
            raise ValueError(
                'UnifiedParsingSegmentor: test_cfg.mode must be "whole" '
                f'(scene and texture are image-level predictions), got '
                f'{mode!r}')
        if pretrained is not None:
            backbone.init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.decode_head = MODELS.build(decode_head)
        for attr in ('tasks', 'part_groups', 'set_stage', 'trained_tasks',
                     'batch_tasks', 'labelled_tasks'):
            if not hasattr(self.decode_head, attr):
                name = type(self.decode_head).__name__
                raise TypeError(
                    'UnifiedParsingSegmentor: decode_head must be a '
                    f'UnifiedParsingHead, got {name} (no attribute '
                    f'{attr!r})')
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels
        if auxiliary_head is not None:
            if isinstance(auxiliary_head, list):
                self.auxiliary_head = nn.ModuleList(
                    MODELS.build(cfg) for cfg in auxiliary_head)
            else:
                self.auxiliary_head = MODELS.build(auxiliary_head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.stage = 'joint'
        check_head_inputs(self)

    @property
    def tasks(self) -> tuple:
        return self.decode_head.tasks

    # ----------------------------------------------------------- stages
    def set_stage(self, stage: str) -> None:
        """'joint' or 'main': everything trainable as configured;
        'texture': only the texture branch is trained, every other
        parameter is frozen (``requires_grad=False``, so the optimizer
        leaves it alone, weight decay included) and every other module
        stays in eval mode (frozen BatchNorm statistics)."""
        self.decode_head.set_stage(stage)
        if stage == 'texture':
            texture = set(self.decode_head.texture_head.parameters())
            for param in self.parameters():
                if param not in texture:
                    param.requires_grad_(False)
        self.stage = stage
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and getattr(self, 'stage', 'joint') == 'texture':
            for module in self.children():
                module.eval()
            self.decode_head.texture_head.train()
        return self

    # ---------------------------------------------------------- features
    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        x = self.backbone(inputs)
        if self.with_neck:
            x = self.neck(x)
        return x

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Logits of every task, pixel tasks at the padded input size."""
        x = self.extract_feat(inputs)
        return self.decode_head.predict(x, batch_img_metas, self.test_cfg)

    def _forward(self, inputs: Tensor, data_samples=None) -> dict:
        """Raw head outputs of every task (no resizing)."""
        return self.decode_head.forward(self.extract_feat(inputs))

    # -------------------------------------------------------------- loss
    def loss(self, inputs: Tensor, data_samples: List[SegDataSample]) -> dict:
        """Losses of the tasks of the batch's source (see
        :meth:`UnifiedParsingHead.batch_tasks`), the same heads on every
        rank.

        Which tasks run, and whether any of them has a label, is agreed
        between the ranks by one small all-reduce (a no-op in one
        process): with ``SourceBatchSampler`` every rank already has the
        same source, and a batch whose samples come from several sources
        still runs the same heads everywhere. A batch without any label of
        those tasks on any rank is skipped: no forward pass, and a zero
        loss connected to no parameter, so no parameter gets a gradient and
        the optimizer leaves every weight (and its momentum and weight
        decay) alone; the same on every rank, so the collectives of DDP
        and SyncBN stay paired. (Under fp16 autocast, whose loss scaler
        refuses a step without any gradient, such a batch runs the heads
        with a zero loss instead; the optimizer then steps with zero
        gradients.)"""
        head = self.decode_head
        tasks = head.batch_tasks(data_samples)
        local = head.labelled_tasks(data_samples, tasks)
        tasks, labelled = self._agree_across_ranks(tasks, local)
        if not labelled and not _loss_scaler_needs_gradients(inputs):
            zero = inputs.new_zeros((), dtype=torch.float32)
            return {'decode.loss_unsupervised': zero.requires_grad_()}
        x = self.extract_feat(inputs)
        losses = {}
        for key, value in head.loss(
                x, data_samples, self.train_cfg, tasks=tasks).items():
            losses[f'decode.{key}'] = value
        if self.with_auxiliary_head and 'object' in tasks:
            heads = self.auxiliary_head if isinstance(
                self.auxiliary_head, nn.ModuleList) else [self.auxiliary_head]
            for i, aux in enumerate(heads):
                prefix = 'aux' if len(heads) == 1 else f'aux_{i}'
                if 'object' in local:
                    aux_losses = aux.loss(x, data_samples, self.train_cfg)
                else:
                    # no object label here: run the head all the same
                    # (another rank may have labels), zero gradient
                    aux_losses = dict(
                        loss_unlabelled=aux.forward(x).sum() * 0.0)
                for key, value in aux_losses.items():
                    losses[f'{prefix}.{key}'] = value
        return losses

    def _agree_across_ranks(self, tasks: tuple, labelled: tuple) -> tuple:
        """The union over the ranks of the batch tasks and of the labelled
        tasks (one all-reduce of a few flags; unchanged in one process)."""
        if get_world_size() == 1:
            return tasks, labelled
        names = self.decode_head.tasks
        flags = torch.tensor([[t in tasks, t in labelled] for t in names],
                             dtype=torch.int32)
        all_reduce(flags, op='max')
        return (tuple(t for t, f in zip(names, flags[:, 0])
                      if f), tuple(t for t, f in zip(names, flags[:, 1]) if f))

    # ----------------------------------------------------------- predict
    def predict(
        self,
        inputs: Tensor,
        data_samples: Optional[List[SegDataSample]] = None
    ) -> List[SegDataSample]:
        if data_samples is not None:
            batch_img_metas = [s.metainfo for s in data_samples]
        else:
            batch_img_metas = [
                _meta_of(None, *inputs.shape[2:])
                for _ in range(inputs.shape[0])
            ]
        logits = self.encode_decode(inputs, batch_img_metas)
        return self.postprocess_result(logits, data_samples)

    def _to_original(self, logits: Tensor, i: int, meta: dict) -> Tensor:
        """(C, H, W) logits of image ``i``: padding removed, flip undone,
        resized to ``ori_shape`` (as mmseg's ``postprocess_result``)."""
        _, _, height, width = logits.shape
        padding = meta.get('img_padding_size',
                           meta.get('padding_size', [0, 0, 0, 0]))
        left, right, top, bottom = padding
        out = logits[i:i + 1, :, top:height - bottom, left:width - right]
        if meta.get('flip', False):
            direction = meta.get('flip_direction', 'horizontal')
            out = out.flip(dims=(3, ) if direction == 'horizontal' else (2, ))
        out = resize(
            out,
            size=meta['ori_shape'],
            mode='bilinear',
            align_corners=self.align_corners,
            warning=False)
        return out[0]

    def postprocess_result(self,
                           logits: Dict[str, Tensor],
                           data_samples=None) -> List[SegDataSample]:
        """Per-image predictions of every task, see the class docstring."""
        num = next(iter(logits.values())).shape[0]
        height, width = logits['object'].shape[2:]
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(num)]
            metas = [_meta_of(None, height, width) for _ in range(num)]
        else:
            metas = [s.metainfo for s in data_samples]
        groups = self.decode_head.part_groups
        for i, (sample, meta) in enumerate(zip(data_samples, metas)):
            objects = self._to_original(logits['object'], i, meta)
            object_pred = objects.argmax(dim=0, keepdim=True)
            sample.set_data(
                dict(
                    seg_logits=PixelData(data=objects),
                    pred_sem_seg=PixelData(data=object_pred)))
            if 'part' in logits:
                parts = self._to_original(logits['part'], i, meta)
                part_pred = groups.predict(parts[None], object_pred)
                sample.set_data(dict(pred_part_seg=PixelData(data=part_pred)))
            if 'material' in logits:
                material = self._to_original(logits['material'], i, meta)
                sample.set_data(
                    dict(
                        pred_material_seg=PixelData(
                            data=material.argmax(dim=0, keepdim=True))))
            if 'scene' in logits:
                sample.set_data(
                    dict(pred_scene=self._label_data(logits['scene'][i])))
            if 'texture' in logits:
                texture = self._to_original(logits['texture'], i, meta)
                score = texture.softmax(dim=0).flatten(1).mean(dim=1)
                sample.set_data(
                    dict(pred_texture=self._label_data(score, is_score=True)))
        return data_samples

    @staticmethod
    def _label_data(values: Tensor, is_score: bool = False) -> LabelData:
        score = values if is_score else values.softmax(dim=0)
        return LabelData(score=score, label=score.argmax().view(1))
