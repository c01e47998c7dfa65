"""Export a segmentor to ONNX with dynamic batch, height and width."""
import copy
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .adaptive_pool import replace_adaptive_pools
from .fold_bn import fold_batchnorm

INPUT_NAME = 'image'
OUTPUT_NAME = 'logits'


class SegmentorLogits(nn.Module):
    """What the exported graph computes: an image batch to per-pixel class
    logits at the image size.

    The input is what the data pipeline hands to the model (float, 0-255,
    channels in the pipeline's order, BGR after ``LoadImageFromFile``); the
    data preprocessor's channel flip and mean/std normalisation are part of
    the graph. Padding to a size divisor is not: give a size the backbone
    accepts. The logits equal ``encode_decode`` of the segmentor on the
    preprocessed image (whole-image inference).

    Args:
        segmentor (nn.Module): An mmseg ``EncoderDecoder`` in eval mode.
    """

    def __init__(self, segmentor: nn.Module):
        super().__init__()
        pre = segmentor.data_preprocessor
        self.backbone = segmentor.backbone
        self.neck = segmentor.neck if segmentor.with_neck else None
        self.decode_head = segmentor.decode_head
        self.flip_channels = bool(getattr(pre, 'channel_conversion', False))
        normalize = bool(getattr(pre, '_enable_normalize', False))
        self.register_buffer(
            'mean', pre.mean.detach().clone() if normalize else None)
        self.register_buffer(
            'std', pre.std.detach().clone() if normalize else None)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = image
        if self.flip_channels:
            x = x.flip(1)
        if self.mean is not None:
            x = (x - self.mean) / self.std
        feats = self.backbone(x)
        if self.neck is not None:
            feats = self.neck(feats)
        logits = self.decode_head.forward(feats)
        return F.interpolate(
            logits,
            size=image.shape[2:],
            mode='bilinear',
            align_corners=self.decode_head.align_corners)


def export_onnx(segmentor: nn.Module,
                path: str,
                example_size: Sequence[int] = (512, 512),
                opset: Optional[int] = None,
                fold_bn: bool = True) -> str:
    """Export ``segmentor`` (a copy of it) to ONNX.

    The graph (see :class:`SegmentorLogits`) has the input ``image``
    (N, 3, H, W) float32 and the output ``logits`` (N, num_classes, H, W);
    N, H and W are dynamic.

    Args:
        segmentor (nn.Module): An mmseg ``EncoderDecoder``, weights loaded.
        path (str): The ``.onnx`` file to write.
        example_size (Sequence[int]): (H, W) of the example input used for
            tracing. Default: (512, 512).
        opset (int, optional): ONNX opset; the exporter's default if None.
        fold_bn (bool): Fold BatchNorm into convolutions first (ONNX
            Runtime would fold it too). Default: True.

    Returns:
        str: ``path``.
    """
    model = copy.deepcopy(segmentor).float().eval()
    if fold_bn:
        fold_batchnorm(model)
    replace_adaptive_pools(model)
    wrapper = SegmentorLogits(model).eval()
    h, w = example_size
    image = torch.rand(2, 3, h, w) * 255
    dims = {
        0: torch.export.Dim('batch', min=1, max=1024),
        2: torch.export.Dim.AUTO,
        3: torch.export.Dim.AUTO
    }
    kwargs = dict(opset_version=opset) if opset is not None else {}
    with torch.no_grad():
        program = torch.onnx.export(
            wrapper, (image, ),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes={'image': dims},
            dynamo=True,
            **kwargs)
    program.save(path)
    return path
