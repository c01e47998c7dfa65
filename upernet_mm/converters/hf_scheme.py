"""The ``hf://DIR`` checkpoint scheme: mmengine loads a local transformers
directory, converted on the fly.

:func:`upernet_mm.loaders.install_checkpoint_loaders` registers the scheme
(whenever upernet_mm's scope is used), so configs can write::

    load_from = 'hf:///path/to/upernet-convnext-tiny'
    # or, for the backbone only (an UperNet or a backbone-only directory):
    backbone=dict(..., init_cfg=dict(
        type='Pretrained', checkpoint='hf:///path/to/dir',
        prefix='backbone.'))

``DIR`` is a local directory (``hf:///abs/dir`` or ``hf://rel/dir``);
nothing is downloaded.
"""
from .hf_files import read_config, read_preprocessor, read_weights
from .metainfo import classes_from_id2label, palette_for
from .preprocessing import data_preprocessor_to_mm
from .upernet import (hf_backbone_mapping, hf_backbone_state_to_mm,
                      hf_state_to_mm, hf_to_mm_model)

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
