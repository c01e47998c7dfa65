"""Reading transformers model directories without importing transformers:
``config.json``, ``preprocessor_config.json`` and weights as safetensors
(single or sharded) or ``pytorch_model.bin`` (loaded with
``torch.load(weights_only=True)``), and the ``hf://DIR`` checkpoint scheme
that converts a directory while mmengine loads it. Directories are written
by transformers itself (``save_pretrained``, see
``upernet_mm.apis.hf_conversion.to_hf``).

:func:`upernet_mm.checkpoint_loaders.install_checkpoint_loaders` registers
the scheme (the tools, the apis and ``register_all_modules`` call it), so
configs can write::

    load_from = 'hf:///path/to/upernet-convnext-tiny'
    # or, for the backbone only (an UperNet or a backbone-only directory):
    backbone=dict(..., init_cfg=dict(
        type='Pretrained', checkpoint='hf:///path/to/dir',
        prefix='backbone.'))

``DIR`` is a local directory (``hf:///abs/dir`` or ``hf://rel/dir``);
nothing is downloaded.
"""
import json
import os
import os.path as osp
from typing import Any, Dict, Optional

import torch

from upernet_mm.safe_io import load_from_local
from .metainfo import classes_from_id2label, palette_for
from .preprocessing import data_preprocessor_to_mm
from .upernet import (hf_backbone_mapping, hf_backbone_state_to_mm,
                      hf_state_to_mm, hf_to_mm_model)

CONFIG_NAME = 'config.json'
PREPROCESSOR_NAME = 'preprocessor_config.json'
SAFE_WEIGHTS = 'model.safetensors'
BIN_WEIGHTS = 'pytorch_model.bin'


def _read_json(path: str) -> Dict[str, Any]:
    with open(path, encoding='utf-8') as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f'{path} is not valid JSON: {error}') from None


def read_config(hf_dir: str) -> Dict[str, Any]:
    """``config.json`` of a transformers directory.

    Raises:
        FileNotFoundError: If ``hf_dir`` or its ``config.json`` is missing.
    """
    if not osp.isdir(hf_dir):
        raise FileNotFoundError(
            f'{hf_dir} is not a directory; a transformers model directory '
            f'with {CONFIG_NAME} and weights is expected (nothing is '
            'downloaded: fetch Hub models first, e.g. with `hf download`)')
    path = osp.join(hf_dir, CONFIG_NAME)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{hf_dir} has no {CONFIG_NAME}')
    return _read_json(path)


def read_preprocessor(hf_dir: str) -> Optional[Dict[str, Any]]:
    """``preprocessor_config.json`` of a directory, or None."""
    path = osp.join(hf_dir, PREPROCESSOR_NAME)
    return _read_json(path) if osp.isfile(path) else None


def _load_file(path: str) -> Dict[str, torch.Tensor]:
    if path.endswith('.safetensors'):
        # local: safetensors is an optional dependency
        from safetensors.torch import load_file
        return load_file(path, device='cpu')
    # weights_only=True; a file that needs more is refused with
    # UnsafeCheckpointError unless the user trusted its SHA-256
    state = load_from_local(path, map_location='cpu')
    if not isinstance(state, dict):
        raise ValueError(f'{path} does not hold a state dict')
    return state


def weights_path(hf_dir: str) -> str:
    """The weights file (or shard index) of a directory, safetensors first.

    Raises:
        FileNotFoundError: Naming the files looked for.
    """
    names = [
        SAFE_WEIGHTS, SAFE_WEIGHTS + '.index.json', BIN_WEIGHTS,
        BIN_WEIGHTS + '.index.json'
    ]
    for name in names:
        path = osp.join(hf_dir, name)
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'{hf_dir} has no weights: looked for '
                            f'{", ".join(names)}')


def shard_path(hf_dir: str, shard, index_path: str) -> str:
    """The path of a shard named in a ``*.index.json``'s ``weight_map``.

    The name must be relative and stay inside ``hf_dir`` once normalised
    (the file itself may be a symlink, as in the Hugging Face cache).

    Raises:
        ValueError: Naming the index file and the shard name.
    """
    if not isinstance(shard, str) or not shard or osp.isabs(shard) or \
            osp.normpath(shard).split(os.sep)[0] == '..' or '\0' in shard:
        raise ValueError(
            f'{index_path}: weight_map names the shard {shard!r}, which is '
            f'not a file inside {hf_dir}; refusing to read it')
    return osp.join(hf_dir, osp.normpath(shard))


def read_weights(hf_dir: str) -> Dict[str, torch.Tensor]:
    """All weights of a transformers directory as one state dict."""
    path = weights_path(hf_dir)
    if not path.endswith('.index.json'):
        return _load_file(path)
    index = _read_json(path).get('weight_map', {})
    if not isinstance(index, dict):
        raise ValueError(f'{path}: weight_map must map weight names to '
                         f'shard files, got {type(index).__name__}')
    shards = [shard_path(hf_dir, s, path) for s in index.values()]
    state = {}
    for shard in sorted(set(shards)):
        state.update(_load_file(shard))
    return state


PREFIX = 'hf://'


def convert_hf_dir(hf_dir: str) -> dict:
    """A transformers directory as an mm checkpoint dict.

    Args:
        hf_dir (str): A transformers UperNet directory, or a ConvNext /
            Swin / ResNet one (``*Model``, ``*Backbone``,
            ``*ForImageClassification``), which gives ``backbone.*`` only.

    Returns:
        dict: ``state_dict`` with mm keys and ``meta`` (``dataset_meta``
        with classes and palette for an UperNet).
    """
    config = read_config(hf_dir)
    meta = dict(converted_from=hf_dir)
    if config.get('model_type') == 'upernet':
        # the config is checked before the weights are read
        pre, _ = data_preprocessor_to_mm(read_preprocessor(hf_dir), hf_dir)
        model = hf_to_mm_model(config, hf_dir, pre)
        state = hf_state_to_mm(model, read_weights(hf_dir), hf_dir)
        classes = classes_from_id2label(config, hf_dir)
        meta['dataset_meta'] = dict(
            classes=tuple(classes), palette=palette_for(classes))
    else:
        hf_backbone_mapping(config.get('model_type'),
                            f'{hf_dir}:config.json')  # checked first too
        state = hf_backbone_state_to_mm(config, read_weights(hf_dir), hf_dir)
    return dict(meta=meta, state_dict=state)


def load_from_hf(filename: str, map_location=None) -> dict:
    """mmengine loader of ``hf://DIR``; see :func:`convert_hf_dir`.

    Args:
        filename (str): ``hf://`` followed by a local directory.
        map_location (str | torch.device | None): Device of the tensors
            (CPU when None or a callable).
    """
    checkpoint = convert_hf_dir(filename[len(PREFIX):])
    if map_location is not None and not callable(map_location):
        checkpoint['state_dict'] = {
            k: v.to(map_location)
            for k, v in checkpoint['state_dict'].items()
        }
    return checkpoint
