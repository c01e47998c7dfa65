"""A segmentor whose network is a compiled OpenVINO artefact, for mmengine's
Runner (``tools/test.py``), ``tools/infer.py`` and the Python API.

:class:`OpenVINOSegmentor` is upernet_mm's ``UPerEncoderDecoder`` (mmseg's
``EncoderDecoder``) with only :meth:`~OpenVINOSegmentor.encode_decode`
replaced: the data preprocessor, whole and sliding-window inference,
resizing and postprocessing stay mmseg's code. The PyTorch backbone and
heads built from the config are dropped after the build checks; the
artefact computes the logits.

Imports ``openvino`` (through :mod:`.openvino_runtime`); only the OpenVINO
paths import this module.
"""
from typing import List, Optional

import torch
import torch.nn as nn
from mmseg.models.utils import resize
from torch import Tensor

from upernet_mm.models.segmentors.encoder_decoder import UPerEncoderDecoder
from upernet_mm.registry import MODELS
from .openvino_artefact import ArtefactError
from .openvino_runtime import load_openvino

# attributes of the decode head that mmseg's segmentor code reads at
# inference (postprocess_result, slide_inference)
_HEAD_ATTRIBUTES = ('num_classes', 'out_channels', 'align_corners',
                    'threshold', 'ignore_index')


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
        raise RuntimeError('the network of an OpenVINOSegmentor is its '
                           'OpenVINO artefact: use encode_decode')


@MODELS.register_module()
class OpenVINOSegmentor(UPerEncoderDecoder):
    """``UPerEncoderDecoder`` whose ``encode_decode`` runs an OpenVINO
    artefact (see :func:`upernet_mm.deploy.openvino_export.export_openvino`).

    Its config is the config's model turned by
    :func:`~.openvino_artefact.openvino_model_cfg` (what
    :func:`upernet_mm.apis.init_model` and ``tools/test.py`` do for an
    artefact).

    Args:
        artefact (str): The artefact directory (or its ``.xml``).
        deploy (str, optional): Expected precision (``--deploy``); another
            precision in the artefact is an error.
        num_threads (int, optional): OpenVINO threads; default
            ``torch.get_num_threads()``.
        **kwargs: Arguments of ``UPerEncoderDecoder`` (the config's model).
    """

    def __init__(self,
                 artefact: str,
                 deploy: Optional[str] = None,
                 num_threads: Optional[int] = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.runtime = load_openvino(artefact, deploy, num_threads)
        if self.runtime.num_classes != self.decode_head.num_classes:
            raise ArtefactError(
                f'OpenVINO artefact {self.runtime.info["dir"]} predicts '
                f'{self.runtime.num_classes} classes, the config\'s decode '
                f'head {self.decode_head.num_classes}: wrong config?')
        # the artefact is the network: drop the PyTorch weights
        self.decode_head = HeadInfo(self.decode_head)
        self.backbone = None
        self.neck = None
        self.auxiliary_head = None
        self.artefact = self.runtime.info['dir']
        self.precision = self.runtime.precision

    def _pipeline_images(self, inputs: Tensor) -> Tensor:
        """Undo the data preprocessor's normalisation and channel flip: the
        artefact takes images as the pipeline loads them (0-255)."""
        pre = self.data_preprocessor
        x = inputs.float()
        if getattr(pre, '_enable_normalize', False):
            x = x * pre.std + pre.mean
        if getattr(pre, 'channel_conversion', False):
            x = x.flip(1)
        return x

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Logits of the artefact at the size mmseg's decode head would
        resize them to (the input size, unless the metas say otherwise)."""
        logits = self.runtime(self._pipeline_images(inputs))
        meta = batch_img_metas[0]
        # the size rule of mmseg's BaseDecodeHead.predict_by_feat
        if isinstance(meta['img_shape'], torch.Size):
            size = meta['img_shape']
        elif 'pad_shape' in meta:
            size = meta['pad_shape'][:2]
        else:
            size = meta['img_shape']
        if tuple(size) != tuple(logits.shape[2:]):
            logits = resize(
                logits,
                size=size,
                mode='bilinear',
                align_corners=self.align_corners)
        return logits.to(inputs.device)

    def extract_feat(self, inputs: Tensor):
        raise RuntimeError('an OpenVINOSegmentor has no feature maps: its '
                           'artefact computes logits (encode_decode)')

    def loss(self, inputs, data_samples):
        raise RuntimeError('an OpenVINOSegmentor is for inference only')

