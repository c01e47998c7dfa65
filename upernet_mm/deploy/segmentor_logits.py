"""What the ONNX and OpenVINO exports compute: a segmentor as a module from
an image batch to per-pixel class logits at the image size, with the
names of the exported graph's input and output."""
import torch
import torch.nn as nn
import torch.nn.functional as F

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
        self.register_buffer('mean',
                             pre.mean.detach().clone() if normalize else None)
        self.register_buffer('std',
                             pre.std.detach().clone() if normalize else None)

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
