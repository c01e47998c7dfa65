"""A segmentor whose network is any callable from images to logits (an
OpenVINO compiled model, an onnxruntime session, ...), for mmengine's
Runner, ``tools/infer.py`` and the Python API.

:class:`LogitsSegmentor` is upernet_mm's ``UPerEncoderDecoder`` (mmseg's
``EncoderDecoder``) with only :meth:`~LogitsSegmentor.encode_decode`
replaced: the data preprocessor, whole and sliding-window inference,
resizing and postprocessing stay mmseg's code. The PyTorch backbone and
heads built from the config are dropped after the build checks.
"""
import copy
from typing import Callable, List, Optional

import torch
import torch.nn as nn
from mmseg.models.utils import resize
from torch import Tensor

from upernet_mm.models.segmentors.encoder_decoder import UPerEncoderDecoder
from upernet_mm.registry import MODELS

# attributes of the decode head that mmseg's segmentor code reads at
# inference (postprocess_result, slide_inference)
_HEAD_ATTRIBUTES = ('num_classes', 'out_channels', 'align_corners',
                    'threshold', 'ignore_index')

# segmentor types a runtime can stand in for (one logits map per image)
SEGMENTOR_TYPES = ('EncoderDecoder', 'UPerEncoderDecoder',
                   'mmseg.EncoderDecoder', 'upernet_mm.UPerEncoderDecoder')


def runtime_model_cfg(model_cfg, kind: str, **fields) -> dict:
    """The config of a ``LogitsSegmentor`` (``kind``: its registered type,
    e.g. ``'upernet_mm.LogitsSegmentor'``) in place of the config's model
    ``model_cfg`` (not modified), with ``fields`` added: the data
    preprocessor, test_cfg, backbone and decode head settings are kept (the
    build checks them; the weights are dropped), the auxiliary head, which
    never runs at inference, is not built.

    Raises:
        ValueError: If the config's model is not an encoder-decoder whose
            decode head gives one logits map.
    """
    source = model_cfg.get('type')
    if source not in SEGMENTOR_TYPES:
        raise ValueError(
            f'a deploy runtime stands in for models of type '
            f'{SEGMENTOR_TYPES}; the config\'s model is {source!r}')
    cfg = copy.deepcopy(dict(model_cfg))
    cfg.update(
        type=kind,
        pretrained=None,
        train_cfg=None,
        auxiliary_head=None,
        **fields)
    backbone = cfg.get('backbone')
    if backbone is not None and 'init_cfg' in backbone:
        backbone['init_cfg'] = None  # no weights to download or read
    return cfg


class HeadInfo(nn.Module):
    """What is left of the decode head: the attributes mmseg's inference
    reads, no weights."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.source_type = type(head).__name__
        for name in _HEAD_ATTRIBUTES:
            if hasattr(head, name):
                setattr(self, name, getattr(head, name))

    def forward(self, *args, **kwargs):
        raise RuntimeError('the network of a LogitsSegmentor is its runtime: '
                           'use encode_decode')


@MODELS.register_module()
class LogitsSegmentor(UPerEncoderDecoder):
    """``UPerEncoderDecoder`` whose ``encode_decode`` calls ``runtime``.

    ``runtime`` maps an image batch, (N, 3, H, W) float32 torch tensor,
    0-255, channels in the data pipeline's order (the convention of
    :class:`upernet_mm.deploy.segmentor_logits.SegmentorLogits`, whose graph
    holds the normalisation), to logits (N, num_classes, H, W) (a torch
    tensor or a numpy array). The config's model is built for its checks
    and attributes; its weights are dropped.

    Args:
        runtime (callable, optional): The network; can be set later with
            :meth:`set_runtime`.
        **kwargs: Arguments of ``UPerEncoderDecoder`` (the config's model).
    """

    def __init__(self, runtime: Optional[Callable] = None, **kwargs):
        super().__init__(**kwargs)
        self.decode_head = HeadInfo(self.decode_head)
        self.backbone = None
        self.neck = None
        self.auxiliary_head = None
        self.runtime = runtime

    def set_runtime(self, runtime: Callable) -> 'LogitsSegmentor':
        """Use ``runtime`` as the network; returns self."""
        self.runtime = runtime
        return self

    def _pipeline_images(self, inputs: Tensor) -> Tensor:
        """Undo the data preprocessor's normalisation and channel flip: the
        runtime takes images as the pipeline loads them (0-255)."""
        pre = self.data_preprocessor
        x = inputs.float()
        if getattr(pre, '_enable_normalize', False):
            x = x * pre.std + pre.mean
        if getattr(pre, 'channel_conversion', False):
            x = x.flip(1)
        return x

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Logits of the runtime at the size mmseg's decode head would
        resize them to (the input size, unless the metas say otherwise)."""
        if self.runtime is None:
            raise RuntimeError('LogitsSegmentor: no runtime set')
        logits = torch.as_tensor(self.runtime(self._pipeline_images(inputs)))
        if logits.shape[:2] != (inputs.shape[0], self.out_channels):
            raise ValueError(
                f'LogitsSegmentor: the runtime returned {tuple(logits.shape)}'
                f' for {inputs.shape[0]} images and {self.out_channels} '
                'classes')
        meta = batch_img_metas[0]
        # the size rule of mmseg's BaseDecodeHead.predict_by_feat
        if isinstance(meta['img_shape'], torch.Size):
            size = meta['img_shape']
        elif 'pad_shape' in meta:
            size = meta['pad_shape'][:2]
        else:
            size = meta['img_shape']
        logits = logits.float()
        if tuple(size) != tuple(logits.shape[2:]):
            logits = resize(
                logits,
                size=size,
                mode='bilinear',
                align_corners=self.align_corners)
        return logits.to(inputs.device)

    def extract_feat(self, inputs: Tensor):
        raise RuntimeError('a LogitsSegmentor has no feature maps: its '
                           'runtime computes logits (encode_decode)')

    def loss(self, inputs, data_samples):
        raise RuntimeError('a LogitsSegmentor is for inference only')
