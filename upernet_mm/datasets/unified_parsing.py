"""UnifiedParsingDataset: several data sources, each labelling some of the
tasks of Unified Perceptual Parsing (objects, parts, scene, materials,
texture), read from the layout of ``unified_parsing_layout``; the embedded
data is generated on first use, so training needs no download."""
import copy
import json
import os.path as osp

from mmseg.datasets import BaseSegDataset

from upernet_mm.registry import DATASETS
from .generated_folder import GeneratedOnFirstUse
from .unified_parsing_classes import METAINFO
from .unified_parsing_embedded import (check_generator_cfg,
                                       ensure_unified_parsing)
from .unified_parsing_layout import (METAINFO_FILE, SPLITS,
                                     UnifiedParsingDataError, find_sources,
                                     list_source_split, read_metainfo_file,
                                     read_source_json)

# task -> the metainfo key of its class list
TASK_CLASS_KEYS = dict(
    object='classes',
    part='part_classes',
    material='material_classes',
    scene='scene_classes',
    texture='texture_classes')


def _same(a, b):
    """Whether two class lists (tuples or lists, dicts of them) agree."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@DATASETS.register_module()
class UnifiedParsingDataset(GeneratedOnFirstUse, BaseSegDataset):
    """Samples of one split of every source (or of the chosen ``sources``)
    under ``data_root``, in the order of the source folders and then of the
    image names.

    Every sample's data info holds ``img_path``, ``seg_map_path`` (the
    object map, or None), ``part_map_path``, ``material_map_path``,
    ``scene_label`` and ``texture_label`` (class indices, -1 where the source
    does not label them), ``source`` and ``tasks``. ``seg_map_path`` is the
    object map, so mmseg's ``LoadAnnotations``/``PackSegInputs`` pipeline
    reads the object level of a source as a plain semantic segmentation
    dataset (a single-task model trains on exactly the same images);
    ``LoadUnifiedParsingAnnotations`` and ``PackUnifiedParsingInputs`` read
    every level.

    The class lists are those of ``unified_parsing_classes`` unless
    ``metainfo`` gives others (``classes``, ``part_classes``,
    ``material_classes``, ``scene_classes``, ``texture_classes``), for data
    of your own written in the same layout; label files hold indices into
    these lists, there is no remapping. A source folder that holds a
    ``metainfo.json`` (converters write one) must agree with these lists
    for the tasks it labels, or loading fails naming the list.

    Label maps may be 8-bit or 16-bit PNGs (see ``unified_parsing_layout``):
    with more than 255 classes of a level, set ``ignore_index=65535`` here
    and in the model (decode head ``ignore_index``, data preprocessor
    ``seg_pad_val``), so that "not labelled" is no class id.

    Args:
        data_root (str): The folder holding one sub-folder per source.
        split (str): ``'training'`` or ``'validation'`` (any folder name
            under ``SOURCE/images`` for your own data).
        sources (list[str], optional): Source folder names to use; all
            sources that have a ``source.json`` if None. A named source
            without the split is an error. Default: None.
        generate_if_missing (bool): Generate the embedded data when
            ``data_root`` is missing or empty (both splits) and check
            generated data against its manifest. Default: True.
        metainfo_from_sources (bool): Take the class lists from the
            ``metainfo.json`` of the chosen sources (those the dataset
            converters write), each for the tasks its source labels;
            sources that give the same list must agree, and ``metainfo``
            keys given as well must equal them. Default: False.
        generator_cfg (dict, optional): ``seed``, ``size``, ``num_train``,
            ``num_val``; see ``unified_parsing_embedded.check_generator_cfg``.
            Only used to generate. Default: None.
        **kwargs: Arguments of :class:`mmseg.datasets.BaseSegDataset`
            (``pipeline``, ``metainfo``, ``test_mode``, ``lazy_init`` ...);
            ``data_prefix``, ``ann_file``, suffixes and
            ``reduce_zero_label`` are not used; ``ignore_index`` (default
            255, at most 65535) is the in-memory value of "not labelled".
    """
    METAINFO = METAINFO
    generated_name = 'unified parsing data'
    ensure_folder = staticmethod(ensure_unified_parsing)

    def __init__(self,
                 data_root,
                 split='training',
                 sources=None,
                 generate_if_missing=True,
                 metainfo_from_sources=False,
                 generator_cfg=None,
                 **kwargs) -> None:
        if not isinstance(split, str) or not split or '/' in split:
            raise ValueError(f'split must be a folder name such as '
                             f'{SPLITS}, got {split!r}')
        if sources is not None and (isinstance(
                sources, str) or not all(isinstance(s, str) for s in sources)):
            raise ValueError(f'sources must be a list of source folder '
                             f'names or None, got {sources!r}')
        self.split = split
        self.sources = None if sources is None else list(sources)
        self.generate_if_missing = generate_if_missing
        self.generator_cfg = check_generator_cfg(generator_cfg)
        self._source_indices = {}
        self._source_tasks = {}
        if metainfo_from_sources:
            kwargs['metainfo'] = self._sources_metainfo(
                data_root, kwargs.get('metainfo'))
        super().__init__(
            data_root=data_root, reduce_zero_label=False, **kwargs)
        self._check_ignore_index()

    def _sources_metainfo(self, data_root, given):
        """The class lists of the chosen sources' ``metainfo.json``."""
        found = find_sources(data_root)
        merged, origin = dict(given or {}), {
            k: 'metainfo'
            for k in (given or {})
        }
        for name in self.sources or found:
            path = osp.join(data_root, name, METAINFO_FILE)
            if not osp.isfile(path):
                continue
            theirs = read_metainfo_file(path)
            tasks = read_source_json(osp.join(data_root, name))['tasks']
            keys = [TASK_CLASS_KEYS[t] for t in tasks]
            if 'classes' in keys and 'palette' in theirs:
                keys.append('palette')
            for key in keys:
                if key not in theirs:
                    continue
                if key in merged and not _same(merged[key], theirs[key]):
                    raise UnifiedParsingDataError(
                        f'{path} gives other {key} than {origin[key]}; the '
                        'sources of one dataset must index the same class '
                        'lists (convert them with the same lists)')
                merged[key], origin[key] = theirs[key], path
        return merged

    def _check_ignore_index(self):
        meta = self._metainfo
        ignore = self.ignore_index
        if not isinstance(ignore, int) or isinstance(ignore, bool) or \
                not 0 <= ignore <= 65535:
            raise ValueError(f'ignore_index must be an integer in 0-65535 '
                             f'(the "not labelled" value), got {ignore!r}')
        counts = dict(
            classes=len(meta['classes']),
            material_classes=len(meta['material_classes']),
            part_classes=max([len(p)
                              for p in meta['part_classes'].values()] + [0]))
        for key, count in counts.items():
            if count > ignore:
                raise ValueError(
                    f'metainfo {key} has {count} classes, so the id '
                    f'{ignore} is a class, but ignore_index={ignore} means '
                    '"not labelled": set ignore_index=65535 in the dataset '
                    'and the model (decode head ignore_index, data '
                    'preprocessor seg_pad_val) and store the maps as 16-bit '
                    'PNGs')

    @classmethod
    def get_label_map(cls, new_classes=None):
        # label files hold indices into the dataset's own lists: no
        # remapping (BaseSegDataset would only accept a subset of METAINFO)
        return None

    def _load_metainfo(self, metainfo=None):
        # other class lists replace ours whole (BaseSegDataset would check
        # them against METAINFO's and make a label map)
        meta = copy.deepcopy(self.METAINFO)
        if metainfo is not None:
            unknown = set(metainfo) - set(meta) - {
                'label_map', 'reduce_zero_label'
            }
            if unknown:
                raise ValueError(f'unknown metainfo keys {sorted(unknown)}; '
                                 f'known: {sorted(meta)}')
            meta.update(copy.deepcopy(metainfo))
            if 'classes' in metainfo and 'palette' not in metainfo:
                meta.pop('palette', None)
        for key in ('classes', 'material_classes', 'scene_classes',
                    'texture_classes'):
            meta[key] = tuple(meta[key])
        meta['part_classes'] = {
            obj: tuple(parts)
            for obj, parts in dict(meta['part_classes']).items()
        }
        unknown_objects = set(meta['part_classes']) - set(meta['classes'])
        if unknown_objects:
            raise ValueError(
                f'part_classes names objects {sorted(unknown_objects)} that '
                f'are not in classes {list(meta["classes"])}')
        return meta

    def _update_palette(self):
        if 'palette' in self._metainfo and len(self._metainfo['palette']) == \
                len(self._metainfo['classes']):
            return list(self._metainfo['palette'])
        return super()._update_palette()

    def full_init(self) -> None:
        """Generate or check the data folder, load the data list, then
        index the samples of each source."""
        if self._fully_initialized:
            return
        super().full_init()
        # after any subset (``indices``) has been taken
        self._source_indices, self._source_tasks = {}, {}
        for index in range(len(self)):
            info = super().get_data_info(index)
            self._source_indices.setdefault(info['source'], []).append(index)
            self._source_tasks[info['source']] = tuple(info['tasks'])

    def load_data_list(self):
        """Samples of every chosen source's split, with every file the
        sources claim checked to exist."""
        found = find_sources(self.data_root)
        if self.sources is None:
            names = found
            if not names:
                raise UnifiedParsingDataError(
                    f'unified parsing data root {self.data_root} has no '
                    'source folder (a sub-folder with a source.json)')
        else:
            absent = [name for name in self.sources if name not in found]
            if absent:
                raise UnifiedParsingDataError(
                    f'sources {absent} are not source folders of '
                    f'{self.data_root} (found: {found})')
            names = self.sources
        class_lists = dict(
            scene=self._metainfo['scene_classes'],
            texture=self._metainfo['texture_classes'])
        data_list = []
        for name in names:
            info, samples = list_source_split(self.data_root, name, self.split,
                                              class_lists)
            if samples:
                self._check_source_metainfo(name, info['tasks'])
            if not samples and self.sources is not None:
                raise UnifiedParsingDataError(
                    f'source {name} of {self.data_root} has no images in '
                    f'images/{self.split}')
            for sample in samples:
                sample['seg_map_path'] = sample['object_map_path']
                sample['label_map'] = None
                sample['reduce_zero_label'] = False
                sample['seg_fields'] = []
                data_list.append(sample)
        if not data_list:
            raise UnifiedParsingDataError(
                f'no source of {self.data_root} ({names}) has images in '
                f'images/{self.split}')
        return data_list

    def _check_source_metainfo(self, name, tasks):
        """A source's ``metainfo.json`` (if any) must hold the class lists
        of the dataset for the tasks the source labels."""
        path = osp.join(self.data_root, name, METAINFO_FILE)
        if not osp.isfile(path):
            return
        theirs = read_metainfo_file(path)
        for task in tasks:
            key = TASK_CLASS_KEYS[task]
            if key not in theirs:
                continue
            if not _same(theirs[key], self._metainfo[key]):
                raise UnifiedParsingDataError(
                    f'{path} gives other {key} than the dataset: the label '
                    f'files of source {name} index its lists; give the '
                    f'dataset these class lists (metainfo, e.g. '
                    f'--metainfo {path} for '
                    'tools/analysis_tools/check_unified_parsing.py)')

    def source_indices(self):
        """dict: Source name -> indices of its samples (in order)."""
        if not self._fully_initialized:
            self.full_init()
        return {name: list(idx) for name, idx in self._source_indices.items()}

    def source_tasks(self):
        """dict: Source name -> tuple of the tasks it labels (sources with
        samples in this split, in order)."""
        if not self._fully_initialized:
            self.full_init()
        return dict(self._source_tasks)

    def get_data_info(self, idx):
        info = super().get_data_info(idx)
        # what LoadUnifiedParsingAnnotations checks the label values with
        info['label_spec'] = self.label_spec()
        return info

    def label_spec(self):
        """dict: Number of object and material classes, and the number of
        parts (with 'other') of each object class, 0 for objects without
        parts, with the class names for error messages, and the
        ``ignore_index`` that "not labelled" becomes."""
        meta = self._metainfo
        parts = meta['part_classes']
        return dict(
            classes=meta['classes'],
            num_parts=tuple(
                len(parts.get(name, ())) for name in meta['classes']),
            material_classes=meta['material_classes'],
            ignore_index=self.ignore_index)
