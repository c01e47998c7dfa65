"""Python API: build a segmentor (the one way: :func:`build_segmentor` for a
model config, :func:`init_model` for a config and a checkpoint), predict,
draw, and convert to and from transformers."""
from .builder import build_segmentor
from .hf_conversion import dataset_classes, to_hf, to_mm
from .inference import (build_test_pipeline, inference_model,
                        init_logits_model, init_model, show_result)
from .label_maps import blend_colours, class_fractions
from .unified_parsing import (draw_label_levels, draw_levels,
                              is_unified_parsing, level_panel,
                              summarize_levels, unified_dataset_meta,
                              write_levels)

__all__ = [
    'blend_colours', 'build_segmentor', 'build_test_pipeline',
    'class_fractions', 'dataset_classes', 'draw_label_levels', 'draw_levels',
    'inference_model', 'init_logits_model', 'init_model', 'is_unified_parsing',
    'level_panel', 'show_result', 'summarize_levels', 'to_hf', 'to_mm',
    'unified_dataset_meta', 'write_levels'
]
