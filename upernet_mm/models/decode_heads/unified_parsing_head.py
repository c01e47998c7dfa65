from numbers import Real
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from torch import Tensor

from upernet_mm.registry import MODELS
from ..layers import PartGroups, TaskHead
from ..losses import image_label_loss, masked_cross_entropy
from .checked_decode_head import _is_int
from .uper_head import UPerHead

TASKS = ('object', 'part', 'scene', 'material', 'texture')
PIXEL_TASKS = ('object', 'part', 'material')
DEFAULT_LOSS_WEIGHTS = dict(
    object=1.0, part=0.5, scene=0.25, material=1.0, texture=1.0)
STAGES = ('joint', 'main', 'texture')
# label fields of a SegDataSample per pixel task
GT_FIELDS = dict(
    object='gt_sem_seg', part='gt_part_seg', material='gt_material_seg')
META_LABELS = dict(scene='scene_label', texture='texture_label')


@MODELS.register_module()
class UnifiedParsingHead(UPerHead):
    """Heads of Unified Perceptual Parsing (Xiao et al., ECCV 2018) on the
    shared UPerNet trunk of :class:`UPerHead`.

    The trunk (pyramid pooling, FPN, fusion) is :class:`UPerHead`'s, with its
    (mmseg's) parameter names, so a single-task UPerNet checkpoint loads
    into it. On top, each task has a 3x3 conv + norm + ReLU and a 1x1
    classifier (:class:`TaskHead`):

    * ``scene`` on the pyramid pooling output (coarsest level), globally
      average-pooled: one label per image (``scene_head``);
    * ``object`` on the fused map, stride of the finest level
      (``object_conv``, then mmseg's ``conv_seg`` with ``num_classes``
      outputs);
    * ``part`` on the fused map, ``sum(num_parts)`` outputs grouped per
      object class with parts, a softmax per group (``part_head``,
      :class:`PartGroups`);
    * ``material`` on the finest FPN level alone (P2), not the fused map
      (``material_head``);
    * ``texture`` on the finest backbone level (C2) *detached*, so it sends
      no gradient into the backbone: ``texture_num_convs`` convs and a
      classifier predicting the image's texture label at every pixel
      (``texture_head``); trained in a final stage (see ``stage``).

    Losses (``loss_weights``, default object 1, part 0.5, scene 0.25,
    material 1, texture 1): object by mmseg's ``loss_decode`` (times the
    object weight); part: for each object class with parts the
    cross-entropy of its group over the pixels of that object whose part is
    labelled, averaged over those pixels, summed over the classes; material:
    cross-entropy averaged over the labelled pixels; texture: cross-entropy
    of every pixel of an image with a texture label (padding excluded),
    averaged over those pixels; scene: cross-entropy averaged over the
    images with a scene label.

    The heads a batch runs are switched by its *source*, as the authors'
    code does: the tasks named in the samples' ``tasks`` metainfo (the
    tasks their data source annotates; every task of the head for samples
    without it) that the current stage trains (:meth:`batch_tasks`), never
    by which labels the batch happens to hold. Every rank of a distributed
    run takes its batch from the same source (``SourceBatchSampler``), so
    every rank runs the same modules and the same collectives (SyncBN). A
    task of the source whose labels are all absent in the batch still runs
    its head and gets a zero loss (zero gradient), never NaN.

    Args:
        tasks (Sequence[str]): Tasks to build, a subset of
            ``('object', 'part', 'scene', 'material', 'texture')`` that
            contains ``'object'``.
        num_classes (int): Object classes.
        num_parts (Sequence[int]): Part classes per object class (index 0,
            "object pixel without part label", included), 0 for objects
            without parts; one entry per object class. Needed for 'part'.
        num_scene_classes (int): Needed for 'scene'.
        num_material_classes (int): Needed for 'material'.
        num_texture_classes (int): Needed for 'texture'.
        texture_num_convs (int): 3x3 convs of the texture branch.
            Default: 2.
        texture_channels (int, optional): Their width. Default: ``channels``.
        loss_weights (dict, optional): Per-task weights, merged into the
            defaults.
        stage (str): ``'joint'`` trains every supervised task;
            ``'main'`` all but texture; ``'texture'`` texture alone (set by
            :class:`UnifiedParsingStageHook`). Default: 'joint'.
        **kwargs: Arguments of :class:`UPerHead`.
    """

    def __init__(self,
                 tasks: Sequence[str] = TASKS,
                 num_parts: Sequence[int] = (),
                 num_scene_classes: int = 0,
                 num_material_classes: int = 0,
                 num_texture_classes: int = 0,
                 texture_num_convs: int = 2,
                 texture_channels: Optional[int] = None,
                 loss_weights: Optional[dict] = None,
                 stage: str = 'joint',
                 **kwargs):
        name = type(self).__name__
        tasks = self._check_tasks(tasks)
        super().__init__(**kwargs)
        self.tasks = tasks
        self.loss_weights = self._check_loss_weights(loss_weights)
        self.stage = 'joint'
        self.set_stage(stage)
        counts = dict(
            scene=num_scene_classes,
            material=num_material_classes,
            texture=num_texture_classes)
        for task, count in counts.items():
            if task in tasks and (not _is_int(count) or count < 1):
                raise ValueError(
                    f'{name}: num_{task}_classes must be a positive int '
                    f'when {task!r} is in tasks, got {count!r}')
        conv_kwargs = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        head_kwargs = dict(dropout_ratio=self.dropout_ratio, **conv_kwargs)
        self.object_conv = ConvModule(
            self.channels, self.channels, 3, padding=1, **conv_kwargs)
        self.part_groups = None
        if 'part' in tasks:
            if not isinstance(num_parts, (list, tuple)) \
                    or len(num_parts) != self.num_classes:
                raise ValueError(
                    f'{name}: num_parts must list the part classes of each '
                    f'of the num_classes={self.num_classes} object classes '
                    f'(0 for objects without parts), got {num_parts!r}')
            self.part_groups = PartGroups(
                list(num_parts), ignore_index=self.ignore_index)
            self.part_head = TaskHead(self.channels, self.channels,
                                      self.part_groups.num_channels,
                                      **head_kwargs)
        if 'scene' in tasks:
            self.scene_head = TaskHead(
                self.channels,
                self.channels,
                num_scene_classes,
                pool=True,
                **head_kwargs)
        if 'material' in tasks:
            self.material_head = TaskHead(self.channels, self.channels,
                                          num_material_classes, **head_kwargs)
        if 'texture' in tasks:
            if not _is_int(texture_num_convs) or texture_num_convs < 1:
                raise ValueError(f'{name}: texture_num_convs must be a '
                                 f'positive int, got {texture_num_convs!r}')
            texture_channels = texture_channels or self.channels
            self.texture_head = TaskHead(
                self.in_channels[0],
                texture_channels,
                num_texture_classes,
                num_convs=texture_num_convs,
                **head_kwargs)
        self.num_scene_classes = num_scene_classes
        self.num_material_classes = num_material_classes
        self.num_texture_classes = num_texture_classes

    @staticmethod
    def _check_tasks(tasks) -> tuple:
        name = 'UnifiedParsingHead'
        if isinstance(tasks, str) or not isinstance(tasks, (list, tuple)):
            raise ValueError(f'{name}: tasks must be a list of task names '
                             f'from {TASKS}, got {tasks!r}')
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise ValueError(f'{name}: unknown task(s) {unknown} in tasks; '
                             f'known tasks are {TASKS}')
        if 'object' not in tasks:
            raise ValueError(
                f'{name}: tasks must contain "object" (the part head reads '
                f'parts inside the predicted objects), got {tuple(tasks)}')
        return tuple(t for t in TASKS if t in tasks)

    def _check_loss_weights(self, loss_weights) -> dict:
        weights = dict(DEFAULT_LOSS_WEIGHTS)
        if loss_weights is None:
            return weights
        if not isinstance(loss_weights, dict):
            raise ValueError('UnifiedParsingHead: loss_weights must be a '
                             f'dict task -> weight, got {loss_weights!r}')
        for task, weight in loss_weights.items():
            if task not in TASKS:
                raise ValueError(
                    f'UnifiedParsingHead: loss_weights has unknown task '
                    f'{task!r}; known tasks are {TASKS}')
            if not isinstance(weight, Real) or isinstance(weight, bool) \
                    or not weight >= 0:
                raise ValueError(
                    f'UnifiedParsingHead: loss_weights[{task!r}] must be a '
                    f'number >= 0, got {weight!r}')
            weights[task] = float(weight)
        return weights

    def set_stage(self, stage: str) -> None:
        """Which tasks :meth:`loss` trains: 'joint' (all), 'main' (all but
        texture) or 'texture' (texture only)."""
        if stage not in STAGES:
            raise ValueError(f'UnifiedParsingHead: stage must be one of '
                             f'{STAGES}, got {stage!r}')
        if stage == 'texture' and 'texture' not in self.tasks:
            raise ValueError(
                'UnifiedParsingHead: stage "texture" needs "texture" in '
                f'tasks, got tasks={self.tasks}')
        self.stage = stage

    @property
    def trained_tasks(self) -> tuple:
        """The tasks the current stage trains."""
        if self.stage == 'texture':
            return ('texture', )
        if self.stage == 'main':
            return tuple(t for t in self.tasks if t != 'texture')
        return self.tasks

    # ------------------------------------------------------------ forward
    def _trunk(self, inputs: List[Tensor], levels: bool) -> dict:
        """Trunk features: ``ppm`` (pyramid pooling output), and with
        ``levels`` also ``p2`` (finest FPN level) and ``fused``."""
        inputs = self._transform_inputs(inputs)
        top = self.psp_forward(inputs[-1])
        feats = dict(c2=inputs[0], ppm=top)
        if not levels:
            return feats
        laterals = [
            conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)
        ]
        laterals.append(top)
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + self._upsample(
                laterals[i], laterals[i - 1].shape[2:])
        outs = [conv(lat) for conv, lat in zip(self.fpn_convs, laterals)]
        outs.append(laterals[-1])
        feats['p2'] = outs[0]
        size = outs[0].shape[2:]
        outs = [outs[0]] + [self._upsample(out, size) for out in outs[1:]]
        if getattr(self.fpn_bottleneck, 'accepts_parts', False):
            feats['fused'] = self.fpn_bottleneck(outs)
        else:
            feats['fused'] = self.fpn_bottleneck(torch.cat(outs, dim=1))
        return feats

    def forward(self,
                inputs: List[Tensor],
                tasks: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
        """Logits of ``tasks`` (default: all of the head's tasks).

        Returns:
            dict: ``object`` (N, num_classes, h, w), ``part``
            (N, sum(num_parts), h, w), ``material`` (N, M, h, w) at the
            finest level's size; ``scene`` (N, S); ``texture`` (N, T, h, w)
            at the finest backbone level's size.
        """
        tasks = self.tasks if tasks is None else tasks
        if 'texture' in tasks and len(tasks) == 1:
            # texture stage: no trunk, the backbone's finest level only
            self._check_inputs(inputs)
            c2 = inputs[self.in_index[0]]
            return dict(texture=self.texture_head(c2.detach()))
        feats = self._trunk(
            inputs, levels=any(t in PIXEL_TASKS for t in tasks))
        out = {}
        if 'object' in tasks:
            out['object'] = self.cls_seg(self.object_conv(feats['fused']))
        if 'part' in tasks:
            out['part'] = self.part_head(feats['fused'])
        if 'material' in tasks:
            out['material'] = self.material_head(feats['p2'])
        if 'scene' in tasks:
            out['scene'] = self.scene_head(feats['ppm'])
        if 'texture' in tasks:
            out['texture'] = self.texture_head(feats['c2'].detach())
        return out

    # --------------------------------------------------------------- loss
    def batch_tasks(self, batch_data_samples) -> tuple:
        """The tasks a batch trains: those its source annotates (the union
        of the samples' ``tasks`` metainfo; every task of the head for a
        sample without it) that the current stage trains, in the order of
        ``TASKS``. Decided from the source, not from the labels present,
        so that every rank of a distributed run decides the same."""
        named = set()
        for sample in batch_data_samples:
            sample_tasks = sample.metainfo.get('tasks')
            if sample_tasks is None:
                named.update(self.tasks)
            elif isinstance(sample_tasks,
                            str) or not isinstance(sample_tasks,
                                                   (list, tuple)):
                raise ValueError(
                    f'data sample metainfo "tasks" must be a list of task '
                    f'names, got {sample_tasks!r} (img_path='
                    f'{sample.metainfo.get("img_path")!r})')
            else:
                unknown = [t for t in sample_tasks if t not in TASKS]
                if unknown:
                    raise ValueError(
                        f'data sample metainfo "tasks" has unknown task(s) '
                        f'{unknown}; known: {TASKS} (img_path='
                        f'{sample.metainfo.get("img_path")!r})')
                named.update(sample_tasks)
        return tuple(t for t in self.trained_tasks if t in named)

    def labelled_tasks(self,
                       batch_data_samples,
                       tasks: Optional[Sequence[str]] = None) -> tuple:
        """The tasks of ``tasks`` (default: :meth:`batch_tasks`) with at
        least one label in this batch."""
        if tasks is None:
            tasks = self.batch_tasks(batch_data_samples)
        return tuple(
            t for t in tasks
            if self._labels(t, batch_data_samples) is not None)

    def _labels(self, task, batch_data_samples) -> Optional[Tensor]:
        """Stacked labels of ``task`` for the samples that name it
        (ignore/-1 for the others), or None if nothing is labelled."""
        rows = []
        for sample in batch_data_samples:
            sample_tasks = sample.metainfo.get('tasks')
            used = sample_tasks is None or task in sample_tasks
            if task in META_LABELS or task == 'texture':
                key = META_LABELS[task]
                value = sample.metainfo.get(key, -1) if used else -1
                if value is None:
                    value = -1
                if not _is_int(value) and not (isinstance(value, Tensor)
                                               and value.numel() == 1):
                    raise ValueError(
                        f'data sample metainfo {key!r} must be an int '
                        f'(-1 = not labelled), got {value!r} (img_path='
                        f'{sample.metainfo.get("img_path")!r})')
                value = int(value)
                limit = getattr(self, f'num_{task}_classes')
                if value < -1 or value >= limit:
                    raise ValueError(
                        f'data sample metainfo {key!r} is {value}, outside '
                        f'0..{limit - 1} ({limit} {task} classes; -1 = not '
                        f'labelled) (img_path='
                        f'{sample.metainfo.get("img_path")!r})')
                rows.append(value)
                continue
            field = GT_FIELDS[task]
            if field not in sample:
                if used and sample_tasks is not None:
                    raise ValueError(
                        f'data sample has no {field!r} but its tasks '
                        f'{tuple(sample_tasks)} include {task!r} (img_path='
                        f'{sample.metainfo.get("img_path")!r})')
                rows.append(None)
                continue
            data = getattr(sample, field).data
            rows.append(
                data if used else torch.full_like(data, self.ignore_index))
        if task in META_LABELS:
            labels = torch.tensor(rows, dtype=torch.long)
            return labels if (labels >= 0).any() else None
        shapes = {tuple(r.shape) for r in rows if r is not None}
        if not shapes:
            return None
        if len(shapes) > 1:
            raise ValueError(f'{GT_FIELDS[task]} maps of one batch have '
                             f'different shapes {sorted(shapes)}')
        template = next(r for r in rows if r is not None)
        labels = torch.stack([
            r
            if r is not None else torch.full_like(template, self.ignore_index)
            for r in rows
        ])[:, 0].long()
        labelled = labels != self.ignore_index
        if not labelled.any():
            return None
        if task == 'material':
            values = labels[labelled]
            bad = (values < 0) | (values >= self.num_material_classes)
            if bad.any():
                raise ValueError(
                    f'gt_material_seg holds material id '
                    f'{values[bad][0].item()}, outside 0..'
                    f'{self.num_material_classes - 1} '
                    f'({self.num_material_classes} material classes; '
                    f'{self.ignore_index} = not labelled)')
        return labels

    def loss(self,
             inputs: List[Tensor],
             batch_data_samples,
             train_cfg,
             tasks: Optional[Sequence[str]] = None) -> dict:
        """Losses of ``tasks`` (default: :meth:`batch_tasks`): one
        ``loss_{task}`` each, zero (with a graph through the task's head)
        where the batch has no label of the task."""
        if tasks is None:
            tasks = self.batch_tasks(batch_data_samples)
        if not tasks:
            return self._no_supervision_loss(inputs)
        logits = self.forward(inputs, tasks)
        losses = {}
        for task in tasks:
            labels = self._labels(task, batch_data_samples)
            weight = self.loss_weights[task]
            if labels is None:
                # runs the head all the same (the same modules and
                # collectives on every rank); zero gradient
                losses[f'loss_{task}'] = logits[task].sum() * 0.0
            elif task == 'object':
                object_losses = self.loss_by_feat(logits['object'],
                                                  batch_data_samples)
                total = sum(v for k, v in object_losses.items()
                            if k.startswith('loss'))
                losses['loss_object'] = weight * total
                losses['acc_object'] = object_losses['acc_seg']
            elif task == 'part':
                object_labels = self._labels('object', batch_data_samples)
                if object_labels is None:
                    raise ValueError(
                        'gt_part_seg has part labels but gt_sem_seg has no '
                        'object label in this batch; parts are read within '
                        'their object')
                part_logits = self._resize(logits['part'], labels)
                loss = self.part_groups.loss(part_logits, labels,
                                             object_labels)
                losses['loss_part'] = logits['part'].sum() * 0.0 \
                    if loss is None else weight * loss
            elif task == 'material':
                material = self._resize(logits['material'], labels)
                losses['loss_material'] = weight * masked_cross_entropy(
                    material, labels, self.ignore_index)
                with torch.no_grad():
                    hit = (material.argmax(1) == labels
                           )[labels != self.ignore_index]
                    losses['acc_material'] = hit.float().mean() * 100
            elif task == 'scene':
                labels = labels.to(logits['scene'].device)
                losses['loss_scene'] = weight * image_label_loss(
                    logits['scene'], labels)
                with torch.no_grad():
                    valid = labels >= 0
                    hit = logits['scene'][valid].argmax(1) == labels[valid]
                    losses['acc_scene'] = hit.float().mean() * 100
            elif task == 'texture':
                labels = labels.to(logits['texture'].device)
                losses['loss_texture'] = weight * image_label_loss(
                    logits['texture'], labels,
                    self._unpadded(batch_data_samples, logits['texture']))
        return losses

    @staticmethod
    def _unpadded(batch_data_samples, logits: Tensor) -> Tensor:
        """(N, h, w) bool: the pixels of (N, C, h, w) logits of the padded
        batch that lie on the image, not on the padding the data
        preprocessor added (``padding_size`` of each sample's metainfo,
        in pixels of the padded input ``batch_input_shape``)."""
        height, width = logits.shape[2:]
        masks = []
        for sample in batch_data_samples:
            meta = sample.metainfo
            left, right, top, bottom = meta.get('padding_size', [0, 0, 0, 0])
            in_h, in_w = meta.get('batch_input_shape',
                                  (meta.get('pad_shape')
                                   or meta.get('img_shape')
                                   or (height, width))[:2])
            mask = torch.zeros(1, 1, in_h, in_w, device=logits.device)
            mask[..., top:in_h - bottom, left:in_w - right] = 1
            masks.append(
                F.interpolate(mask, size=(height,
                                          width), mode='nearest')[0, 0] > 0)
        return torch.stack(masks)

    def _resize(self, logits: Tensor, labels: Tensor) -> Tensor:
        return resize(
            logits,
            size=labels.shape[1:],
            mode='bilinear',
            align_corners=self.align_corners)

    def _no_supervision_loss(self, inputs) -> dict:
        """A batch of a source none of whose tasks the current stage
        trains: a zero loss built from the trained heads' outputs times
        zero, so it has a graph and their gradients are zero (not absent).
        The segmentor uses it only where the optimizer step needs a
        gradient (fp16 loss scaling); otherwise it skips such a batch
        without a forward pass (see ``UnifiedParsingSegmentor.loss``)."""
        logits = self.forward(inputs, self.trained_tasks)
        zero = sum(v.sum() for v in logits.values()) * 0.0
        return dict(loss_unsupervised=zero)

    # ---------------------------------------------------------- inference
    def predict(self, inputs: List[Tensor], batch_img_metas: List[dict],
                test_cfg) -> Dict[str, Tensor]:
        """Logits of every task, pixel tasks (and texture) resized to the
        padded input size as mmseg's ``predict_by_feat``; scene (N, S)."""
        logits = self.forward(inputs)
        return {
            task:
            value if task == 'scene' else self.predict_by_feat(
                value, batch_img_metas)
            for task, value in logits.items()
        }
