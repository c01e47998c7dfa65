"""The two conversions of ``tools/model_converters/convert_hf.py``,
directory to directory: transformers UperNet -> upernet_mm config and
checkpoint (:func:`to_mm`), and back (:func:`to_hf`)."""
import io
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from upernet_mm.converters.hf_files import (read_config, read_preprocessor,
                                            read_weights, weights_path)
from upernet_mm.converters.metainfo import (checkpoint_or_config_classes,
                                            classes_from_id2label, palette_for)
from upernet_mm.converters.mm_config import config_dict, write_config
from upernet_mm.converters.preprocessing import (data_preprocessor_to_mm,
                                                 image_processor_to_hf,
                                                 resize_from_processor)
from upernet_mm.converters.rules import ConversionError, check_shapes
from upernet_mm.converters.upernet import (hf_state_to_mm, hf_to_mm_model,
                                           mm_state_to_hf, mm_to_hf_config)
from upernet_mm.registry import DATASETS, SCOPE
from upernet_mm.safe_io import atomic_write, load_from_local
from .builder import build_segmentor


def _shapes(module) -> Dict[str, torch.Size]:
    return {k: v.shape for k, v in module.state_dict().items()}


def to_mm(hf_dir: str,
          out_dir: str,
          name: Optional[str] = None,
          self_contained: bool = False) -> Tuple[str, str, List[str]]:
    """Convert a transformers UperNet directory to an upernet_mm config and
    checkpoint.

    The checkpoint is checked against the model built from the written
    config (keys and shapes) before it is saved.

    Args:
        hf_dir (str): Directory with ``config.json`` and weights.
        out_dir (str): Where ``{name}.py`` and ``{name}.pth`` are written.
        name (str, optional): File name stem. Defaults to the name of
            ``hf_dir`` with characters other than letters, digits, ``_``,
            ``.`` and ``-`` replaced by ``_``.
        self_contained (bool): Write the config with its bases merged in
            instead of inheriting them by path. Default: False.

    Returns:
        tuple[str, str, list[str]]: Config path, checkpoint path and notes.
    """
    hf_dir = osp.abspath(hf_dir)
    # the directory's name may hold anything (line breaks, quotes, ...)
    name = name or re.sub(r'[^\w.-]', '_', osp.basename(
        osp.normpath(hf_dir))).lstrip('.') or 'model'
    config = read_config(hf_dir)
    processor = read_preprocessor(hf_dir)
    origin = osp.join(hf_dir, 'config.json')
    preprocessor, notes = data_preprocessor_to_mm(processor, hf_dir)
    model = hf_to_mm_model(config, origin, preprocessor)
    source = weights_path(hf_dir)
    state = hf_state_to_mm(model, read_weights(hf_dir), source)
    classes = classes_from_id2label(config, origin)
    palette = palette_for(classes)

    pipeline = [dict(type='LoadImageFromFile')]
    resize = resize_from_processor(processor)
    if resize is not None:
        pipeline.append(resize)
    pipeline.append(dict(type='PackSegInputs'))
    os.makedirs(out_dir, exist_ok=True)
    config_path = write_config(
        osp.join(out_dir, f'{name}.py'),
        config_dict(model, classes, palette, pipeline, hf_dir), self_contained)

    written = Config.fromfile(config_path)
    if tuple(written.metainfo.classes) != tuple(classes):  # inert_config
        raise ConversionError(  # guarantees this; checked all the same
            f'{config_path} does not read back the class names of {origin}')
    built = build_segmentor(written.model)
    check_shapes(state, _shapes(built), source,
                 f'the model of the written config {config_path}')
    checkpoint_path = osp.join(out_dir, f'{name}.pth')
    buffer = io.BytesIO()
    torch.save(
        dict(
            meta=dict(
                dataset_meta=dict(classes=tuple(classes), palette=palette),
                converted_from=hf_dir),
            state_dict=state), buffer)
    atomic_write(checkpoint_path, buffer.getvalue())
    return config_path, checkpoint_path, notes


def dataset_classes(
        cfg: Config,
        checkpoint_meta: Optional[Dict] = None) -> Optional[List[str]]:
    """Class names of a checkpoint and its mm config, or None if neither
    names any: the checkpoint's ``meta.dataset_meta``, else the config's
    (see :func:`~upernet_mm.converters.metainfo.checkpoint_or_config_classes`),
    else the ``METAINFO`` of a dataset type of its dataloaders."""

    def dataset_type_classes(type_name):
        with DefaultScope.overwrite_default_scope(SCOPE):
            cls = DATASETS.get(type_name)
        meta = getattr(cls, 'METAINFO', None) if cls else None
        return list(meta['classes']) if meta and meta.get('classes') else None

    return checkpoint_or_config_classes(cfg, checkpoint_meta,
                                        dataset_type_classes)


def to_hf(config_path: str,
          checkpoint_path: str,
          out_dir: str,
          cfg_options: Optional[Dict] = None) -> Tuple[str, List[str]]:
    """Convert an upernet_mm config and checkpoint to a transformers
    directory (``config.json``, ``model.safetensors``,
    ``preprocessor_config.json``), written by transformers'
    ``save_pretrained`` so the keys are those of the Hub checkpoints.

    Args:
        config_path (str): The mm config.
        checkpoint_path (str): Its checkpoint.
        out_dir (str): The directory to write.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        tuple[str, list[str]]: ``out_dir`` and notes on options that do
        not carry over.

    Raises:
        ConversionError: For unsupported models or options, checkpoints that
            do not match the config, or a config without class names.
    """
    cfg = Config.fromfile(config_path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model_cfg = cfg.model.to_dict()
    checkpoint = load_from_local(checkpoint_path, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    meta = checkpoint.get('meta') if isinstance(checkpoint.get('meta'),
                                                dict) else None
    classes = dataset_classes(cfg, meta)
    if classes is None:
        raise ConversionError(
            f'Neither {checkpoint_path} (meta.dataset_meta) nor {config_path} '
            '(metainfo, a dataset type) names the dataset classes; id2label '
            'needs them: add metainfo=dict(classes=(...)) to the config')
    hf_config, notes = mm_to_hf_config(model_cfg, classes)
    check_shapes(state, _shapes(build_segmentor(model_cfg)), checkpoint_path,
                 f'the model of {config_path}')
    hf_state = mm_state_to_hf(model_cfg, state, checkpoint_path)

    # local imports: transformers is an optional dependency
    # (requirements/optional.txt) that only this direction needs
    from transformers import SegformerImageProcessor, UperNetConfig
    from transformers import UperNetForSemanticSegmentation as UperNet
    config = UperNetConfig(**hf_config)
    # built without allocating or initialising weights, then given ours
    with torch.device('meta'):
        model = UperNet(config)
    check_shapes(hf_state, _shapes(model), checkpoint_path,
                 'transformers UperNet built from the converted config')
    model.load_state_dict(hf_state, strict=True, assign=True)
    processor_args, more = image_processor_to_hf(cfg)
    notes += more
    os.makedirs(out_dir, exist_ok=True)
    # transformers writes config.json and model.safetensors in its own
    # on-disk layout (the key names of the Hub checkpoints)
    model.save_pretrained(out_dir)
    SegformerImageProcessor(**processor_args).save_pretrained(out_dir)
    return out_dir, notes
