"""Python API for inference: build a segmentor, predict, draw."""
from .inference import (build_test_pipeline, inference_model, init_model,
                        show_result)

__all__ = [
    'build_test_pipeline', 'inference_model', 'init_model', 'show_result'
]
