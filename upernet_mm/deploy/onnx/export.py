"""Export a segmentor to ONNX with dynamic batch, height and width."""
import copy
from typing import Optional, Sequence

import torch
import torch.nn as nn

from ..pytorch.fold_bn import fold_batchnorm
from ..segmentor_logits import INPUT_NAME, OUTPUT_NAME, SegmentorLogits
from .adaptive_pool import replace_adaptive_pools


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
