"""Reading transformers model directories without importing transformers:
``config.json``, ``preprocessor_config.json`` and weights as safetensors
(single or sharded) or ``pytorch_model.bin`` (loaded with
``torch.load(weights_only=True)``). Directories are written by transformers
itself (``save_pretrained``, see ``upernet_mm.apis.hf_conversion.to_hf``)."""
import json
import os
import os.path as osp
from typing import Any, Dict, Optional

import torch

from upernet_mm.safe_io import load_from_local

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

