"""The config side of dataset statistics: which dataloader's dataset, which
ignore index (used by ``tools/analysis_tools/class_weights.py`` with
:mod:`upernet_mm.datasets.class_frequencies`, and by
``tools/analysis_tools/browse_dataset.py``)."""
from mmengine.config import Config
from mmengine.registry import DefaultScope

from upernet_mm.engine.data_startup_check import head_num_classes
from upernet_mm.registry import DATASETS, SCOPE


def build_split_dataset(cfg: Config, split: str = 'train'):
    """Build the dataset of ``cfg.<split>_dataloader`` (fully initialised,
    with its pipeline) in the config's default scope.

    Raises:
        ValueError: If the config has no such dataloader dataset.
    """
    key = f'{split}_dataloader'
    if not cfg.get(key) or 'dataset' not in cfg[key]:
        raise ValueError(f'the config has no {key}.dataset')
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope') or SCOPE):
        return DATASETS.build(cfg[key].dataset)


def config_ignore_index(cfg: Config) -> int:
    """The ``ignore_index`` of the model's heads (255 if they set none).

    Raises:
        ValueError: If the heads disagree (naming each head's value).
    """
    heads = head_num_classes(cfg.get('model', {}))
    values = {ignore for _, ignore in heads.values()}
    if len(values) > 1:
        shown = ', '.join(f'{path}.ignore_index={ignore}'
                          for path, (_, ignore) in heads.items())
        raise ValueError(f'the heads have different ignore indices: {shown}')
    return values.pop() if values else 255
