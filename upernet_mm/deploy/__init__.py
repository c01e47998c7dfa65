"""Inference form of trained segmentors: BatchNorm folding, memory format,
bfloat16, ``torch.compile`` (``segmentor``), and ONNX export
(``onnx_export``)."""
from .fold_bn import FoldReport, fold_batchnorm
from .segmentor import PRECISIONS, deploy_segmentor

__all__ = ['FoldReport', 'PRECISIONS', 'deploy_segmentor', 'fold_batchnorm']
