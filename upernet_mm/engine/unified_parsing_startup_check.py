"""Start-up check of a unified parsing model config against its datasets:
the part, scene, material and texture heads must have as many classes as
the dataset's class lists, or the labels would be read against the wrong
lists (or fail deep in a loss hours into a run), and the head must ignore
the value the dataset gives "not labelled" pixels (255, or 65535 for data
with more than 255 classes of a level)."""
from upernet_mm.datasets.checks import DataCheckError
from upernet_mm.models.decode_heads.unified_parsing_head import TASKS

LEVELS = (('scene', 'scene_classes'), ('material', 'material_classes'),
          ('texture', 'texture_classes'))


def check_level_classes(model_cfg, dataset, where: str) -> None:
    """Raise if a ``UnifiedParsingHead`` config disagrees with the class
    lists of ``dataset.metainfo`` (``part_classes`` per object,
    ``scene_classes``, ``material_classes``, ``texture_classes``); heads of
    other types and datasets without these lists are not checked.

    Args:
        model_cfg (dict): The config's ``model``.
        dataset (BaseDataset): A dataset of the config.
        where (str): Config path of the dataset, for the message.

    Raises:
        DataCheckError: Naming the head field, both values and the list.
    """
    model_cfg = model_cfg.get('module', model_cfg)
    head = model_cfg.get('decode_head')
    if not isinstance(head, dict) or not str(head.get(
            'type', '')).endswith('UnifiedParsingHead'):
        return
    meta = dataset.metainfo
    tasks = tuple(head.get('tasks', TASKS))
    source = (f'{where} ({type(dataset).__name__}, data_root='
              f'{dataset.data_root!r})')
    ignore = getattr(dataset, 'ignore_index', 255)
    if head.get('ignore_index', 255) != ignore:
        raise DataCheckError(
            f'model.decode_head.ignore_index={head.get("ignore_index", 255)}'
            f' but {source} has ignore_index={ignore} (the value of "not '
            'labelled" pixels); set both to the same value')
    pad = (model_cfg.get('data_preprocessor') or {}).get('seg_pad_val', 255)
    if pad != ignore:
        raise DataCheckError(
            f'model.data_preprocessor.seg_pad_val={pad} but {source} has '
            f'ignore_index={ignore}: padded label pixels would be trained '
            f'as class {pad}; set seg_pad_val={ignore}')
    classes = meta.get('classes')
    parts = meta.get('part_classes')
    if 'part' in tasks and classes and isinstance(parts, dict):
        expected = [len(parts.get(name, ())) for name in classes]
        got = list(head.get('num_parts', ()))
        if got != expected:
            wrong = next(
                (i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                min(len(got), len(expected)))
            name = classes[wrong] if wrong < len(classes) else '?'
            raise DataCheckError(
                f'model.decode_head.num_parts={got} but {source} has '
                f'{expected} part classes per object (first difference: '
                f'object {wrong} {name!r}); set num_parts={expected}')
    for task, key in LEVELS:
        names = meta.get(key)
        if task not in tasks or not names:
            continue
        got = head.get(f'num_{task}_classes')
        if got != len(names):
            shown = ', '.join(map(str, list(names)[:6]))
            more = ', ...' if len(names) > 6 else ''
            raise DataCheckError(
                f'model.decode_head.num_{task}_classes={got} but {source} '
                f'has {len(names)} {task} classes ({shown}{more}); set '
                f'num_{task}_classes={len(names)}')
