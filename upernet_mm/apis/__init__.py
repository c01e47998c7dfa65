"""Python API: build a segmentor (the one way: :func:`build_segmentor` for a
model config, :func:`init_model` for a config and a checkpoint), predict,
draw, and convert to and from transformers."""
from .builder import build_segmentor
from .hf_conversion import dataset_classes, to_hf, to_mm
from .inference import (build_test_pipeline, inference_model, init_model,
                        show_result)

__all__ = [
    'build_segmentor', 'build_test_pipeline', 'dataset_classes',
    'inference_model', 'init_model', 'show_result', 'to_hf', 'to_mm'
]
