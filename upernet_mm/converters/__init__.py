"""Conversion between transformers UperNet checkpoints and upernet_mm, as
data: configs and state dicts in, configs and state dicts out (building
models and writing directories is :mod:`upernet_mm.apis.hf_conversion`).

One module per backbone family (``convnext``, ``swin``, ``resnet``), the
heads (``uper_head``) and whole models (``upernet``), on the rule machinery
(``rules``: errors, config fields with defaults read from the mm classes'
signatures, key rules, the backbone-family interface); ``preprocessing``
and ``metainfo`` map normalisation and classes, ``hf_files`` reads
transformers directories and is the ``hf://`` checkpoint loader
(installed by
:func:`upernet_mm.checkpoint_loaders.install_checkpoint_loaders`),
``mm_config`` writes the converted config.
"""
from .hf_files import convert_hf_dir, load_from_hf
from .rules import (CheckpointMismatchError, ConversionError,
                    UnsupportedBackboneError, UnsupportedOptionError)
from .upernet import (BACKBONES, hf_backbone_state_to_mm, hf_state_to_mm,
                      hf_to_mm_model, mm_state_to_hf, mm_to_hf_config,
                      model_rules)

__all__ = [
    'BACKBONES', 'CheckpointMismatchError', 'ConversionError',
    'UnsupportedBackboneError', 'UnsupportedOptionError', 'convert_hf_dir',
    'hf_backbone_state_to_mm', 'hf_state_to_mm', 'hf_to_mm_model',
    'load_from_hf', 'mm_state_to_hf', 'mm_to_hf_config', 'model_rules'
]
