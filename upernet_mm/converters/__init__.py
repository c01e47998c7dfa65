"""Conversion between transformers UperNet checkpoints and upernet_mm, as
data: configs and state dicts in, configs and state dicts out (building
models and writing directories is :mod:`upernet_mm.apis.hf_conversion`).

One module per concern: ``convnext``, ``swin`` and ``resnet`` map the
backbones, ``uper_head`` the heads, ``upernet`` whole models, ``rules``
applies the key rules, ``hf_files``/``mm_config`` read and write files,
``preprocessing`` and ``metainfo`` map normalisation and classes, and
``hf_scheme`` is the ``hf://`` checkpoint loader (installed by
:func:`upernet_mm.loaders.install_checkpoint_loaders`).
"""
from .errors import (CheckpointMismatchError, ConversionError,
                     UnsupportedBackboneError, UnsupportedOptionError)
from .hf_scheme import convert_hf_dir, load_from_hf
from .upernet import (BACKBONES, hf_backbone_state_to_mm, hf_state_to_mm,
                      hf_to_mm_model, mm_state_to_hf, mm_to_hf_config,
                      model_rules)

__all__ = [
    'BACKBONES', 'CheckpointMismatchError', 'ConversionError',
    'UnsupportedBackboneError', 'UnsupportedOptionError', 'convert_hf_dir',
    'hf_backbone_state_to_mm', 'hf_state_to_mm', 'hf_to_mm_model',
    'load_from_hf', 'mm_state_to_hf', 'mm_to_hf_config', 'model_rules'
]
