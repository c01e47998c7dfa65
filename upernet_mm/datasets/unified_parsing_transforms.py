"""Loading and packing the labels of every Unified Perceptual Parsing task.

``LoadUnifiedParsingAnnotations`` stacks the object, part and material maps
of a sample (8- or 16-bit files) into the channels of one ``gt_seg_map``
(H, W, 3), filled with the dataset's ``ignore_index`` (255 unless set) where
the source does not label a task. mmcv's and mmseg's geometric
transforms (``Resize``, ``RandomResize``, ``RandomCrop``, ``RandomFlip``,
``RandomRotate``, ``Pad`` ...) handle ``gt_seg_map`` with nearest-neighbour
interpolation whatever its channels, so the three levels stay aligned pixel
for pixel through any pipeline made of them, and photometric transforms
never touch them. The image-level labels (``scene_label``,
``texture_label``) are plain keys that no crop can drop.
``PackUnifiedParsingInputs`` splits the channels back into ``gt_sem_seg``,
``gt_part_seg`` and ``gt_material_seg``.

Note that ``RandomCrop(cat_max_ratio=...)`` counts the values of all three
channels together when it rejects crops dominated by one value.
"""
import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform, Compose
from mmcv.transforms import LoadAnnotations as MMCV_LoadAnnotations
from mmengine.fileio import get
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from upernet_mm.registry import TRANSFORMS
from .unified_parsing_classes import (IGNORE_INDEX, MATERIAL_CLASSES,
                                      OBJECT_CLASSES, PART_CLASSES,
                                      PIXEL_TASKS, TASKS)
from .unified_parsing_layout import UnifiedParsingDataError, label_map_to_ids

GT_CHANNELS = dict(object=0, part=1, material=2)
PACKED_FIELDS = dict(
    object='gt_sem_seg', part='gt_part_seg', material='gt_material_seg')


def default_label_spec():
    """The label spec (see ``UnifiedParsingDataset.label_spec``) of the
    class lists of ``unified_parsing_classes``."""
    return dict(
        classes=OBJECT_CLASSES,
        num_parts=tuple(
            len(PART_CLASSES.get(name, ())) for name in OBJECT_CLASSES),
        material_classes=MATERIAL_CLASSES,
        ignore_index=IGNORE_INDEX)


def check_label_maps(maps, paths, spec):
    """Check the label values of one sample's maps.

    Args:
        maps (dict): Task -> (H, W) map of ids (see
            ``unified_parsing_layout.label_map_to_ids``), for the tasks
            present.
        paths (dict): Task -> file the map was read from (for messages).
        spec (dict): ``classes``, ``num_parts``, ``material_classes`` and
            optionally ``ignore_index`` (default 255): the value of "not
            labelled" in ``maps``.

    Raises:
        UnifiedParsingDataError: Naming the file and the value at fault: an
            object or material id out of range, a part label on an object
            that has no parts, a part index beyond its object's parts or a
            part label where no object is labelled, maps of different
            sizes.
    """
    shapes = {task: m.shape for task, m in maps.items()}
    if len(set(shapes.values())) > 1:
        raise UnifiedParsingDataError(
            'label maps of one image differ in size: ' +
            ', '.join(f'{paths[t]} is {s[1]}x{s[0]}'
                      for t, s in shapes.items()))
    classes = spec['classes']
    ignore = spec.get('ignore_index', IGNORE_INDEX)
    for task, names in (('object', classes), ('material',
                                              spec['material_classes'])):
        if task not in maps:
            continue
        values = np.unique(maps[task])
        bad = values[(values >= len(names)) & (values != ignore)]
        if bad.size:
            raise UnifiedParsingDataError(
                f'{task} label file {paths[task]} holds the {task} id '
                f'{int(bad[0])}, out of range: there are {len(names)} '
                f'{task} classes (ids 0-{len(names) - 1}; not labelled: '
                '255 in an 8-bit file, 65535 in a 16-bit one)')
    if 'part' not in maps:
        return
    if 'object' not in maps:
        raise UnifiedParsingDataError(
            f'part label file {paths["part"]} comes without an object label '
            'map: part indices mean something only inside their object')
    part, obj = maps['part'], maps['object']
    labelled = part != ignore
    pairs = np.unique(obj[labelled].astype(np.int64) * 65536 + part[labelled])
    num_parts = spec['num_parts']
    for pair in pairs:
        o, p = divmod(int(pair), 65536)
        if o == ignore:
            raise UnifiedParsingDataError(
                f'part label file {paths["part"]} has part {p} on pixels '
                f'without an object label in {paths["object"]}; parts need '
                'their object (mark those part pixels not labelled)')
        if num_parts[o] == 0:
            raise UnifiedParsingDataError(
                f'part label file {paths["part"]} has part {p} on pixels of '
                f'object {classes[o]!r} (id {o}), which has no parts (mark '
                'those part pixels not labelled; objects with parts: '
                f'{[c for c, n in zip(classes, num_parts) if n]})')
        if p >= num_parts[o]:
            raise UnifiedParsingDataError(
                f'part label file {paths["part"]} has part {p} on pixels of '
                f'object {classes[o]!r} (id {o}), which has only '
                f'{num_parts[o]} parts (0-{num_parts[o] - 1}, 0 = other; '
                'not labelled where its parts are not annotated)')


@TRANSFORMS.register_module()
class LoadUnifiedParsingAnnotations(MMCV_LoadAnnotations):
    """Load the object, part and material maps of a sample into the three
    channels of ``gt_seg_map``, 255 where the sample's source does not label
    a task, and check their values.

    Required keys: ``object_map_path``, ``part_map_path``,
    ``material_map_path`` (None where not labelled), optionally
    ``label_spec`` (set by ``UnifiedParsingDataset``; the class lists of
    ``unified_parsing_classes`` otherwise).

    Added keys: ``gt_seg_map`` ((H, W, 3), uint8 when every map is 8-bit
    and ``ignore_index`` is 255, else uint16), ``seg_fields``.

    Label files are 8-bit (255 = not labelled) or 16-bit (65535 = not
    labelled) PNGs; "not labelled" becomes ``label_spec['ignore_index']``
    (255 unless the dataset sets another ``ignore_index``).

    Args:
        check_values (bool): Check the label values of every sample (cheap:
            a few ``np.unique``); errors name the file and the value.
            Default: True.
        imdecode_backend (str): Default: 'pillow' (as mmseg's
            ``LoadAnnotations``).
        backend_args (dict, optional): Of ``mmengine.fileio.get``.
    """

    def __init__(self,
                 check_values=True,
                 imdecode_backend='pillow',
                 backend_args=None) -> None:
        super().__init__(
            with_bbox=False,
            with_label=False,
            with_seg=True,
            with_keypoints=False,
            imdecode_backend=imdecode_backend,
            backend_args=backend_args)
        self.check_values = check_values

    def _read_map(self, path):
        data = get(path, backend_args=self.backend_args)
        try:
            seg = mmcv.imfrombytes(
                data, flag='unchanged', backend=self.imdecode_backend)
        except Exception as e:  # decoders raise many kinds
            raise UnifiedParsingDataError(
                f'label file {path} cannot be decoded ({e})') from e
        return seg

    def _load_seg_map(self, results: dict) -> None:
        spec = results.get('label_spec') or default_label_spec()
        ignore = spec.get('ignore_index', IGNORE_INDEX)
        maps, paths = {}, {}
        for task in PIXEL_TASKS:
            path = results.get(f'{task}_map_path')
            if path is not None:
                maps[task] = label_map_to_ids(
                    self._read_map(path), path, ignore)
                paths[task] = path
        if self.check_values:
            check_label_maps(maps, paths, spec)
        if maps:
            shape = next(iter(maps.values())).shape
        else:  # a source with image-level labels only
            shape = tuple(results.get('ori_shape') or results['img'].shape[:2])
        dtype = np.uint8 if ignore == IGNORE_INDEX and all(
            seg.dtype == np.uint8 for seg in maps.values()) else np.uint16
        gt = np.full(shape + (len(GT_CHANNELS), ), ignore, dtype)
        for task, seg in maps.items():
            gt[..., GT_CHANNELS[task]] = seg
        results['gt_seg_map'] = gt
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(check_values='
                f'{self.check_values}, imdecode_backend='
                f"'{self.imdecode_backend}', backend_args="
                f'{self.backend_args})')


@TRANSFORMS.register_module()
class PackUnifiedParsingInputs(BaseTransform):
    """Pack an image and its labels of every task, as mmseg's
    ``PackSegInputs`` does for one task.

    ``inputs``: the image as a (C, H, W) tensor. ``data_samples``: a
    ``SegDataSample`` with ``gt_sem_seg`` (objects), ``gt_part_seg`` and
    ``gt_material_seg``, each ``PixelData`` of a (1, H, W) int64 tensor,
    the dataset's ``ignore_index`` (255 unless set) = not labelled, all
    three present whenever ``gt_seg_map`` is (the channels of
    ``LoadUnifiedParsingAnnotations``); metainfo with
    ``meta_keys``, among them ``scene_label`` and ``texture_label`` (-1 =
    not labelled), ``source`` and ``tasks``. Without ``gt_seg_map``
    (inference) no ground truth is packed and missing meta keys are
    skipped.

    Args:
        meta_keys (tuple[str]): Keys of the results copied to the metainfo.
    """

    def __init__(
        self,
        meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                   'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                   'reduce_zero_label', 'scene_label', 'texture_label',
                   'source', 'tasks')
    ) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        packed = dict()
        if 'img' in results:
            img = results['img']
            if img.ndim < 3:
                img = np.expand_dims(img, -1)
            if not img.flags.c_contiguous:
                img = np.ascontiguousarray(img.transpose(2, 0, 1))
                img = torch.from_numpy(img)
            else:
                img = torch.from_numpy(img).permute(2, 0, 1).contiguous()
            packed['inputs'] = img
        sample = SegDataSample()
        gt = results.get('gt_seg_map')
        if gt is not None:
            if gt.ndim != 3 or gt.shape[2] != len(GT_CHANNELS):
                raise ValueError(
                    f'gt_seg_map of {results.get("img_path")} has shape '
                    f'{gt.shape}; PackUnifiedParsingInputs needs the (H, W, '
                    f'{len(GT_CHANNELS)}) maps of '
                    'LoadUnifiedParsingAnnotations (use PackSegInputs with '
                    'LoadAnnotations)')
            for task, channel in GT_CHANNELS.items():
                data = torch.from_numpy(gt[None, ...,
                                           channel].astype(np.int64))
                sample.set_data({PACKED_FIELDS[task]: PixelData(data=data)})
        meta = {key: results[key] for key in self.meta_keys if key in results}
        for key in ('scene_label', 'texture_label'):
            if key in self.meta_keys and gt is not None:
                meta.setdefault(key, -1)
                meta[key] = int(meta[key])
        if 'tasks' in meta:
            meta['tasks'] = tuple(meta['tasks'])
        sample.set_metainfo(meta)
        packed['data_samples'] = sample
        return packed

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'


@TRANSFORMS.register_module()
class TaskBranch(BaseTransform):
    """Transforms chosen by the tasks of a sample's source: e.g. the paper's
    small texture crops for the texture source and the scene-size resizing
    for the others, in one dataset's pipeline.

    The branch of the first of the sample's ``tasks`` (in the order of
    ``unified_parsing_classes.TASKS``) that has one runs; a sample with no
    such task runs ``default``.

    Args:
        branches (dict): Task name -> list of transform configs.
        default (list, optional): Transforms of the other samples. Default:
            none (the sample passes unchanged).
    """

    def __init__(self, branches, default=None) -> None:
        if not isinstance(branches, dict) or not branches:
            raise ValueError(f'TaskBranch: branches must be a dict task -> '
                             f'list of transforms, got {branches!r}')
        unknown = sorted(set(branches) - set(TASKS))
        if unknown:
            raise ValueError(f'TaskBranch: branches name the tasks '
                             f'{unknown}, which are not in {list(TASKS)}')
        self.branches = {
            task: Compose(list(transforms))
            for task, transforms in branches.items()
        }
        self.default = Compose(list(default or []))

    def transform(self, results: dict):
        tasks = results.get('tasks')
        if tasks is None:
            raise KeyError(
                f'TaskBranch needs the sample\'s "tasks" (set by '
                f'UnifiedParsingDataset), {results.get("img_path")} has none')
        for task in TASKS:
            if task in tasks and task in self.branches:
                return self.branches[task](results)
        return self.default(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(branches={self.branches}, '
                f'default={self.default})')
