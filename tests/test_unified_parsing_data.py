"""Unified parsing data: generation (deterministic, levels consistent, the
same scenes as SyntheticScenes), the dataset over the on-disk layout, label
alignment through mmseg's transforms, the one-source batch sampler, the
base config, and the errors on bad input."""
import collections
import hashlib
import json
import multiprocessing
import os
import os.path as osp
import random
import re
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.runner import Runner

from helpers import ROOT, load_tool
from helpers.broden import write_broden_like
from helpers.unified_parsing_data import (TINY_CFG, FakeSampler,
                                          FakeSourceDataset, cell_triple,
                                          geometry_maps, sampler_rank_worker,
                                          write_source)
from upernet_mm.datasets import (PackUnifiedParsingInputs, SourceBatchSampler,
                                 UnifiedParsingDataError,
                                 UnifiedParsingDataset,
                                 UnifiedParsingFolderError,
                                 ensure_unified_parsing, write_unified_parsing)
from upernet_mm.datasets.checks import DataCheckError
from upernet_mm.datasets.synthetic_scenes_generator import (
    SCENE_LAYOUTS, render_layered_scene, render_scene)
from upernet_mm.datasets.unified_parsing_check import \
    check_unified_parsing_samples
from upernet_mm.datasets.unified_parsing_textures import render_texture
from upernet_mm.engine.data_startup_check import check_data
from upernet_mm.registry import DATA_SAMPLERS, DATASETS, TRANSFORMS

from upernet_mm.datasets.unified_parsing_classes import (  # isort: skip
    MATERIAL_CLASSES, NUM_PARTS_OF_OBJECT, OBJECT_CLASSES, PART_CLASSES,
    SCENE_CLASSES, TEXTURE_CLASSES)

BASE_CFG = osp.join(ROOT, 'configs', '_base_', 'datasets',
                    'unified_parsing.py')


def _digests(root):
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path,
                                root)] = hashlib.sha256(f.read()).hexdigest()
    return out


@pytest.fixture(autouse=True)
def _our_scope(scope):
    scope('upernet_mm')


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('up') / 'unified_parsing')
    write_unified_parsing(root, TINY_CFG)
    return root


@pytest.fixture
def tiny_copy(tiny_root, tmp_path):
    root = str(tmp_path / 'unified_parsing')
    shutil.copytree(tiny_root, root)
    return root


def _dataset(root, **kwargs):
    kwargs.setdefault('generator_cfg', TINY_CFG)
    kwargs.setdefault('pipeline', [
        dict(type='LoadImageFromFile'),
        dict(type='LoadUnifiedParsingAnnotations'),
        dict(type='PackUnifiedParsingInputs')
    ])
    return UnifiedParsingDataset(data_root=root, **kwargs)


# -------------------------------------------------------------- generation


def test_class_lists_match_generator():
    assert OBJECT_CLASSES[0] == 'sky' and len(OBJECT_CLASSES) == 13
    assert list(PART_CLASSES) == [
        c for c in OBJECT_CLASSES if c in PART_CLASSES
    ]
    assert all(parts[0] == 'other' for parts in PART_CLASSES.values())
    assert tuple(SCENE_LAYOUTS) == SCENE_CLASSES
    assert len(set(MATERIAL_CLASSES)) == len(MATERIAL_CLASSES)


def test_same_seed_same_bytes_and_different_seed_differs(tiny_root, tmp_path):
    again = str(tmp_path / 'again')
    write_unified_parsing(again, TINY_CFG)
    assert _digests(again) == _digests(tiny_root)
    other = str(tmp_path / 'other')
    write_unified_parsing(other, dict(TINY_CFG, seed=1))
    a, b = _digests(tiny_root), _digests(other)
    images = [k for k in a if k.endswith('.jpg')]
    assert images and all(a[k] != b[k] for k in images)


def test_layout_of_generated_data(tiny_root):
    manifest = json.load(open(osp.join(tiny_root, 'unified_parsing.json')))
    assert set(manifest['sources']) == {'scenes', 'materials', 'textures'}
    tasks = {
        name: json.load(open(osp.join(tiny_root, name,
                                      'source.json')))['tasks']
        for name in manifest['sources']
    }
    assert tasks == dict(
        scenes=['object', 'part', 'scene'],
        materials=['material'],
        textures=['texture'])
    for name, task in (('scenes', 'object'), ('scenes', 'part'), ('materials',
                                                                  'material')):
        assert len(os.listdir(osp.join(tiny_root, name, task,
                                       'training'))) == \
            TINY_CFG['num_train'][name]
    assert not osp.exists(osp.join(tiny_root, 'materials', 'object'))
    labels = json.load(
        open(osp.join(tiny_root, 'scenes', 'labels', 'training.json')))
    assert [labels[f'{i:05d}']['scene'] for i in range(6)] == \
        list(SCENE_CLASSES)
    textures = json.load(
        open(osp.join(tiny_root, 'textures', 'labels', 'validation.json')))
    assert textures == {'00000': {'texture': TEXTURE_CLASSES[0]}}


@pytest.mark.parametrize('kind,scene', [('street', 'street'),
                                        ('room', 'living_room')])
def test_street_and_living_room_are_synthetic_scenes(kind, scene):
    for seed in range(4):
        img, lbl = render_scene(np.random.default_rng(seed), kind, 96)
        layers = render_layered_scene(np.random.default_rng(seed), scene, 96)
        np.testing.assert_array_equal(layers['img'], img)
        np.testing.assert_array_equal(layers['object'], lbl)


@pytest.mark.parametrize('scene', SCENE_CLASSES)
def test_levels_agree(scene):
    """Parts exactly on the pixels of objects with parts, within range;
    every pixel has a material."""
    num_parts = np.array(NUM_PARTS_OF_OBJECT)
    for seed in range(6):
        layers = render_layered_scene(np.random.default_rng(seed), scene)
        obj, part, mat = layers['object'], layers['part'], layers['material']
        has_parts = num_parts[obj] > 0
        np.testing.assert_array_equal(part != 255, has_parts)
        assert (part[has_parts] < num_parts[obj][has_parts]).all()
        assert (mat < len(MATERIAL_CLASSES)).all()


def test_scene_categories_differ_in_content():
    counts = collections.defaultdict(collections.Counter)
    for scene in SCENE_CLASSES:
        for seed in range(10):
            obj = render_layered_scene(np.random.default_rng(seed),
                                       scene)['object']
            for name in ('road', 'car', 'building', 'table', 'painting'):
                counts[scene][name] += int(
                    (obj == OBJECT_CLASSES.index(name)).any())
    assert counts['park']['road'] == 0 and counts['street']['road'] == 10
    assert counts['highway']['building'] == 0
    assert counts['art_gallery']['table'] == 0
    assert counts['dining_room']['table'] == 10


def test_textures_are_deterministic_and_distinct():
    for name in TEXTURE_CLASSES:
        a = render_texture(np.random.default_rng(3), name, 64)
        b = render_texture(np.random.default_rng(3), name, 64)
        assert a.shape == (64, 64, 3) and a.dtype == np.uint8
        np.testing.assert_array_equal(a, b)
        assert a.std() > 10, name  # a visible pattern
    with pytest.raises(ValueError, match='texture must be one of'):
        render_texture(np.random.default_rng(0), 'paisley')


# ----------------------------------------------------------------- dataset


def test_dataset_lists_every_source_and_its_labels(tiny_root):
    dataset = _dataset(tiny_root)
    assert len(dataset) == sum(TINY_CFG['num_train'].values())
    assert dataset.source_indices() == dict(
        materials=list(range(0, 4)),
        scenes=list(range(4, 10)),
        textures=list(range(10, 13)))
    assert dataset.source_tasks() == dict(
        materials=('material', ),
        scenes=('object', 'part', 'scene'),
        textures=('texture', ))
    info = dataset.get_data_info(4)
    assert info['tasks'] == ('object', 'part', 'scene')
    assert info['scene_label'] == 0 and info['texture_label'] == -1
    assert info['seg_map_path'] == info['object_map_path']
    assert info['material_map_path'] is None
    info = dataset.get_data_info(10)
    assert info['tasks'] == ('texture', ) and info['texture_label'] == 0
    assert info['seg_map_path'] is None
    meta = dataset.metainfo
    assert meta['classes'] == OBJECT_CLASSES
    assert meta['part_classes'] == PART_CLASSES
    assert meta['material_classes'] == MATERIAL_CLASSES
    val = _dataset(tiny_root, split='validation')
    assert set(val.source_indices()) == {'scenes', 'materials', 'textures'}
    only = _dataset(tiny_root, sources=['materials'])
    assert len(only) == 4


def test_packed_sample_of_each_source(tiny_root):
    dataset = _dataset(tiny_root)
    for index, source in ((0, 'materials'), (4, 'scenes'), (10, 'textures')):
        out = dataset[index]
        sample = out['data_samples']
        assert out['inputs'].shape == (3, 64, 64)
        assert sample.source == source
        fields = dict(
            object='gt_sem_seg',
            part='gt_part_seg',
            material='gt_material_seg')
        for task, field in fields.items():
            data = getattr(sample, field).data
            assert data.shape == (1, 64, 64) and data.dtype == torch.int64
            labelled = (data != 255).any().item()
            assert labelled == (task in sample.tasks), (source, task)
        assert (sample.scene_label >= 0) == ('scene' in sample.tasks)
        assert (sample.texture_label >= 0) == ('texture' in sample.tasks)


def test_object_level_readable_by_single_task_pipeline(tiny_root):
    """The scenes source trains a plain mmseg model on the same images and
    the same object labels."""
    single = _dataset(
        tiny_root,
        sources=['scenes'],
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ])
    multi = _dataset(tiny_root, sources=['scenes'])
    for index in range(len(single)):
        a, b = single[index], multi[index]
        assert torch.equal(a['inputs'], b['inputs'])
        assert torch.equal(a['data_samples'].gt_sem_seg.data,
                           b['data_samples'].gt_sem_seg.data)


def test_user_data_without_manifest_is_read(tmp_path):
    img, maps = geometry_maps(32, 48)
    root = str(tmp_path / 'mine')
    write_source(root, 'walls', ['material'], {'a': dict(img=img, **maps)})
    dataset = _dataset(root)
    assert len(dataset) == 1 and not osp.exists(
        osp.join(root, 'unified_parsing.json'))
    gt = dataset[0]['data_samples']
    np.testing.assert_array_equal(gt.gt_material_seg.data[0].numpy(),
                                  maps['material'])
    assert (gt.gt_sem_seg.data == 255).all()


# --------------------------------------------------------------- alignment


def _geometry_results(tmp_path, height=64, width=96):
    img, maps = geometry_maps(height, width)
    root = str(tmp_path / 'geo')
    write_source(
        root,
        'geo', ['object', 'part', 'material', 'scene'],
        {'g': dict(img=img, **maps)},
        labels={'g': {
            'scene': 'park'
        }})
    dataset = _dataset(root, pipeline=[])
    results = dataset[0]
    results = TRANSFORMS.build(dict(type='LoadImageFromFile'))(results)
    return TRANSFORMS.build(dict(type='LoadUnifiedParsingAnnotations'))(
        results)


def _check_aligned(results):
    """Every labelled pixel in the interior of a cell of the transformed
    image carries the labels of the cell its colour encodes."""
    img = results['img']  # BGR
    gt = results['gt_seg_map']
    assert gt.shape[:2] == img.shape[:2]
    checked = 0
    h, w = gt.shape[:2]
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            patch = img[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3)
            if (patch != patch[4]).any() or (gt[y, x] == 255).all():
                continue  # near a cell border or padding
            b, g, _ = (int(v) for v in img[y, x])
            if g % 20 or b % 20:
                continue
            assert tuple(gt[y, x]) == cell_triple(g // 20, b // 20), (y, x)
            checked += 1
    assert checked > h * w // 8
    return checked


@pytest.mark.parametrize('seed', range(6))
def test_labels_stay_aligned_through_mmseg_transforms(tmp_path, seed):
    results = _geometry_results(tmp_path)
    np.random.seed(seed)
    random.seed(seed)
    pipeline = [
        dict(
            type='RandomResize',
            scale=(96, 64),
            ratio_range=(0.8, 1.6),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=(40, 56)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='Pad', size=(64, 64), pad_val=dict(img=0, seg=255)),
    ]
    for cfg in pipeline:
        results = TRANSFORMS.build(cfg)(results)
    _check_aligned(results)
    packed = PackUnifiedParsingInputs()(results)
    sample = packed['data_samples']
    gt = results['gt_seg_map']
    fields = ('gt_sem_seg', 'gt_part_seg', 'gt_material_seg')
    for channel, field in enumerate(fields):
        np.testing.assert_array_equal(
            getattr(sample, field).data[0].numpy(), gt[..., channel])
    assert sample.scene_label == SCENE_CLASSES.index('park')


def test_flip_and_resize_move_labels_with_the_image(tmp_path):
    results = _geometry_results(tmp_path)
    before = results['gt_seg_map'].copy()
    flipped = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0))(
        dict(results, gt_seg_map=before.copy(), seg_fields=['gt_seg_map']))
    np.testing.assert_array_equal(flipped['gt_seg_map'], before[:, ::-1])
    _check_aligned(flipped)
    resized = TRANSFORMS.build(
        dict(type='Resize', scale=(48, 32), keep_ratio=False))(
            dict(results))
    assert resized['gt_seg_map'].shape == (32, 48, 3)
    _check_aligned(resized)


def test_crop_keeps_image_level_labels(tiny_root):
    dataset = _dataset(
        tiny_root,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadUnifiedParsingAnnotations'),
            dict(type='RandomCrop', crop_size=(8, 8), cat_max_ratio=0.75),
            dict(type='PhotoMetricDistortion'),
            dict(type='PackUnifiedParsingInputs')
        ])
    for index in (4, 10):  # a scene and a texture
        sample = dataset[index]['data_samples']
        info = dataset.get_data_info(index)
        assert sample.gt_sem_seg.data.shape == (1, 8, 8)
        assert sample.scene_label == info['scene_label']
        assert sample.texture_label == info['texture_label']


# ----------------------------------------------------------------- sampler


def _batches(sampler, num):
    it = iter(sampler)
    return [next(it) for _ in range(num)]


def test_sampler_one_source_per_batch_in_proportion():
    sizes = dict(a=600, b=300, c=100)
    dataset = FakeSourceDataset(sizes)
    sampler = SourceBatchSampler(FakeSampler(dataset), batch_size=4)
    counts = collections.Counter()
    for batch in _batches(sampler, 4000):
        sources = {dataset.sources[i] for i in batch}
        assert len(sources) == 1, sources
        counts[sources.pop()] += 1
    for name, size in sizes.items():
        assert abs(counts[name] / 4000 - size / 1000) < 0.03, counts


def test_sampler_weights():
    dataset = FakeSourceDataset(dict(a=600, b=300, c=100))
    sampler = SourceBatchSampler(
        FakeSampler(dataset), batch_size=2, source_weights=dict(a=1, b=0, c=3))
    counts = collections.Counter(dataset.sources[b[0]]
                                 for b in _batches(sampler, 2000))
    assert counts['b'] == 0
    assert abs(counts['c'] / 2000 - 0.75) < 0.04


def test_sampler_ranks_share_sources_not_samples():
    dataset = FakeSourceDataset(dict(a=50, b=30, c=20))
    ranks = [
        SourceBatchSampler(
            FakeSampler(dataset, rank=r, world_size=2, seed=7), batch_size=5)
        for r in range(2)
    ]
    runs = [_batches(s, 200) for s in ranks]
    for b0, b1 in zip(*runs):
        assert dataset.sources[b0[0]] == dataset.sources[b1[0]]
    # within the first pass over a source, the ranks take disjoint samples
    for name, size in dict(a=50, b=30, c=20).items():
        firsts = []
        for run in runs:
            taken = [
                i for batch in run for i in batch if dataset.sources[i] == name
            ]
            firsts.append(taken[:size // 2])
        assert not set(firsts[0]) & set(firsts[1])
        assert len(set(firsts[0]) | set(firsts[1])) == size
    # the same seed gives the same sequence; another seed another one
    again = _batches(
        SourceBatchSampler(
            FakeSampler(dataset, rank=0, world_size=2, seed=7), batch_size=5),
        200)
    assert again == runs[0]
    other = _batches(
        SourceBatchSampler(
            FakeSampler(dataset, rank=0, world_size=2, seed=8), batch_size=5),
        200)
    assert other != runs[0]


def test_sampler_stages_switch_sources_by_batch_index():
    dataset = FakeSourceDataset(dict(a=30, b=20, t=10))
    stages = [
        dict(begin=50, source_weights=dict(a=0, b=0, t=1)),
        dict(begin=80, source_weights=None)
    ]
    staged = SourceBatchSampler(
        FakeSampler(dataset, seed=3),
        batch_size=2,
        source_weights=dict(a=1, b=1, t=0),
        stages=stages)
    batches = _batches(staged, 300)
    sources = [dataset.sources[b[0]] for b in batches]
    assert 't' not in sources[:50] and {'a', 'b'} <= set(sources[:50])
    assert set(sources[50:80]) == {'t'}
    assert set(sources[80:]) == {'a', 'b', 't'}
    # the draws do not depend on the stages: after the last stage the
    # sequence of sources equals an unstaged sampler's
    plain = SourceBatchSampler(FakeSampler(dataset, seed=3), batch_size=2)
    plain_sources = [dataset.sources[b[0]] for b in _batches(plain, 300)]
    assert sources[:80] != plain_sources[:80]
    assert sources[80:] != [] and all(
        (s == p) for s, p in zip(sources[80:], plain_sources[80:]))
    with pytest.raises(
            ValueError,
            match=r'stages\[1\]\.begin must be an '
            'integer greater than 50'):
        SourceBatchSampler(
            FakeSampler(dataset), 2, stages=[dict(begin=50),
                                             dict(begin=50)])
    with pytest.raises(
            ValueError,
            match=r"stages\[0\]\.source_weights "
            r"must name exactly .* missing \['t'\]"):
        SourceBatchSampler(
            FakeSampler(dataset),
            2,
            stages=[dict(begin=5, source_weights=dict(a=1, b=1))])


def test_sampler_finite_epoch_takes_every_source_once():
    dataset = FakeSourceDataset(dict(a=12, b=8))
    per_rank = []
    for rank in range(2):
        sampler = SourceBatchSampler(
            FakeSampler(dataset, rank=rank, world_size=2, epoch=3),
            batch_size=2)
        batches = list(sampler)
        assert len(batches) == len(sampler) == 5
        per_rank.append(batches)
    for b0, b1 in zip(*per_rank):
        assert {dataset.sources[i] for i in b0 + b1} in ({'a'}, {'b'})
    seen = [i for run in per_rank for batch in run for i in batch]
    assert sorted(seen) == list(range(20))


def test_sampler_errors():
    dataset = FakeSourceDataset(dict(a=5, b=5))
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        SourceBatchSampler(FakeSampler(dataset), 2, source_weights=dict(a=1))
    with pytest.raises(ValueError, match=r"unknown \['z'\]"):
        SourceBatchSampler(
            FakeSampler(dataset), 2, source_weights=dict(a=1, b=1, z=1))
    with pytest.raises(ValueError, match='all 0'):
        SourceBatchSampler(
            FakeSampler(dataset), 2, source_weights=dict(a=0, b=0))
    with pytest.raises(ValueError, match="weight of source 'a'"):
        SourceBatchSampler(
            FakeSampler(dataset), 2, source_weights=dict(a=-1, b=1))
    with pytest.raises(ValueError, match='need an infinite sampler'):
        SourceBatchSampler(
            FakeSampler(dataset, epoch=0), 2, source_weights=dict(a=1, b=1))


def test_base_config_dataloaders(tiny_root):
    cfg = Config.fromfile(BASE_CFG)
    train = cfg.train_dataloader
    assert DATA_SAMPLERS.get(train.batch_sampler.type) is SourceBatchSampler
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.update(data_root=tiny_root, generator_cfg=TINY_CFG)
        loader.update(num_workers=0, persistent_workers=False)
    train.batch_size = 3
    loader = Runner.build_dataloader(train, seed=0)
    for _, batch in zip(range(6), loader):
        sources = {s.source for s in batch['data_samples']}
        assert len(sources) == 1
        assert all(t.shape == (3, 96, 96) for t in batch['inputs'])
    val = Runner.build_dataloader(cfg.val_dataloader, seed=0)
    assert {s.source
            for b in val
            for s in b['data_samples']} == {'scenes', 'materials', 'textures'}
    assert isinstance(
        DATASETS.build(dict(cfg.val_dataloader.dataset, lazy_init=True)),
        UnifiedParsingDataset)


def test_generated_on_first_use(tmp_path):
    root = str(tmp_path / 'new')
    dataset = _dataset(root)
    assert len(dataset) == 13 and osp.isfile(
        osp.join(root, 'unified_parsing.json'))


# ---------------------------------------------------------- bad input errors


def _load(dataset, index):
    return dataset[index]


def test_error_part_label_on_object_without_parts(tmp_path):
    img, maps = geometry_maps(32, 48)
    maps['object'][:8, :8] = OBJECT_CLASSES.index('sky')
    maps['part'][:8, :8] = 2
    root = str(tmp_path / 'd')
    write_source(root, 's', ['object', 'part'], {'x': dict(img=img, **maps)})
    with pytest.raises(
            UnifiedParsingDataError,
            match=r"part/training/x\.png has part 2 on pixels of "
            r"object 'sky' \(id 0\), which has no parts"):
        _load(_dataset(root), 0)


def test_error_part_index_beyond_object_parts(tmp_path):
    img, maps = geometry_maps(32, 48)
    maps['object'][:8, :8] = OBJECT_CLASSES.index('tree')
    maps['part'][:8, :8] = 7
    root = str(tmp_path / 'd')
    write_source(root, 's', ['object', 'part'], {'x': dict(img=img, **maps)})
    with pytest.raises(
            UnifiedParsingDataError,
            match=r"x\.png has part 7 on pixels of object 'tree' "
            r'\(id 3\), which has only 3 parts'):
        _load(_dataset(root), 0)


def test_error_material_id_out_of_range(tmp_path):
    img, maps = geometry_maps(32, 48)
    maps['material'][5, 5] = 40
    root = str(tmp_path / 'd')
    write_source(root, 'm', ['material'], {'x': dict(img=img, **maps)})
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'material/training/x\.png holds the material id '
            r'40, out of range: there are 18 material classes'):
        _load(_dataset(root), 0)


def test_error_object_id_out_of_range(tmp_path):
    img, maps = geometry_maps(32, 48)
    maps['object'][5, 5] = 13
    root = str(tmp_path / 'd')
    write_source(root, 'o', ['object'], {'x': dict(img=img, **maps)})
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'object/training/x\.png holds the object id 13'):
        _load(_dataset(root), 0)


def test_error_source_missing_claimed_task_folder(tiny_copy):
    shutil.rmtree(osp.join(tiny_copy, 'scenes', 'part'))
    os.remove(osp.join(tiny_copy, 'unified_parsing.json'))  # a user's data
    with pytest.raises(
            UnifiedParsingDataError,
            match=r"scenes claims the task 'part' in its "
            r'source\.json but has no folder .*part/training'):
        _dataset(tiny_copy)


def test_error_source_missing_claimed_label_files(tiny_copy):
    os.remove(osp.join(tiny_copy, 'unified_parsing.json'))
    os.remove(
        osp.join(tiny_copy, 'materials', 'material', 'training', '00002.png'))
    with pytest.raises(
            UnifiedParsingDataError,
            match=r"materials claims the task 'material' but "
            r'.*material/training lacks the label maps of 1 of 4 '
            r'images \(00002\.png\)'):
        _dataset(tiny_copy)


def test_error_source_missing_image_labels(tiny_copy):
    os.remove(osp.join(tiny_copy, 'unified_parsing.json'))
    path = osp.join(tiny_copy, 'textures', 'labels', 'training.json')
    labels = json.load(open(path))
    del labels['00001']
    json.dump(labels, open(path, 'w'))
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'training\.json lacks the texture label of 1 '
            r'of 3 images \(00001\)'):
        _dataset(tiny_copy)
    os.remove(path)
    with pytest.raises(
            UnifiedParsingDataError,
            match=r"training\.json does not exist, but the source "
            r"claims the image-level task\(s\) \['texture'\]"):
        _dataset(tiny_copy)


def test_error_scene_name_not_in_class_list(tiny_copy):
    path = osp.join(tiny_copy, 'scenes', 'labels', 'training.json')
    labels = json.load(open(path))
    labels['00003']['scene'] = 'beach'
    json.dump(labels, open(path, 'w'))
    with pytest.raises(
            UnifiedParsingDataError,
            match=r"scenes/labels/training\.json: image 00003 has "
            r"scene 'beach', which is not in the scene class "
            r"list \(6 classes: street, park"):
        _dataset(tiny_copy)


def test_error_generated_folder_incomplete(tiny_copy):
    os.remove(
        osp.join(tiny_copy, 'scenes', 'images', 'validation', '00001.jpg'))
    with pytest.raises(
            UnifiedParsingFolderError,
            match=r'scenes/images/validation lacks 1 of 2 files '
            r'\(00001\.jpg\)'):
        _dataset(tiny_copy)


@pytest.mark.parametrize('content,message', [
    (dict(tasks=['object', 'depth']), "lists the task 'depth'"),
    (dict(tasks=['part']), 'lists the task "part" without "object"'),
    (dict(tasks=['object'], img_suffix='.exe'), 'img_suffix must be one of'),
    ([1, 2], 'must hold an object with a list "tasks"'),
])
def test_error_bad_source_json(tmp_path, content, message):
    img, maps = geometry_maps(32, 48)
    root = str(tmp_path / 'd')
    source = write_source(root, 's', ['object'], {'x': dict(img=img, **maps)})
    with open(osp.join(source, 'source.json'), 'w') as f:
        json.dump(content, f)
    with pytest.raises(UnifiedParsingDataError, match=message):
        _dataset(root)


def test_error_label_maps_of_different_sizes(tmp_path):
    img, maps = geometry_maps(32, 48)
    maps['material'] = maps['material'][:16]
    root = str(tmp_path / 'd')
    write_source(root, 's', ['object', 'material'],
                 {'x': dict(img=img, **maps)})
    with pytest.raises(
            UnifiedParsingDataError,
            match='label maps of one image differ in size'):
        _load(_dataset(root), 0)


def test_unknown_source_named(tiny_root):
    with pytest.raises(
            UnifiedParsingDataError,
            match=r"sources \['ade'\] are not source folders"):
        _dataset(tiny_root, sources=['ade'])


# -------------------------------------------------------------- data check


def _check_cfg(root):
    cfg = Config.fromfile(BASE_CFG)
    cfg.default_scope = 'upernet_mm'
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.update(data_root=root, generator_cfg=TINY_CFG)
    return cfg


def test_data_check_decodes_every_task(tiny_copy):
    sizes = check_data(_check_cfg(tiny_copy), check_files=True)
    assert sizes == {
        'train_dataloader.dataset': 13,
        'val_dataloader.dataset': 5
    }
    path = osp.join(tiny_copy, 'materials', 'material', 'validation',
                    '00001.png')
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    label[3, 4] = 18
    cv2.imwrite(path, label)
    # cheap start-up check: files exist, values not decoded
    check_data(_check_cfg(tiny_copy), check_files=False)
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'\[materials\] material label file .*'
            r'validation/00001\.png holds the material id 18'):
        check_data(_check_cfg(tiny_copy), check_files=True)


def test_data_check_part_map_of_other_size(tiny_copy):
    path = osp.join(tiny_copy, 'scenes', 'part', 'training', '00002.png')
    cv2.imwrite(path, np.full((32, 64), 255, np.uint8))
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'\[scenes\] part label file .*00002\.png is '
            r'32x64 \(h x w\) but its image .*00002\.jpg is '
            r'64x64'):
        check_data(_check_cfg(tiny_copy), check_files=True)


def test_start_up_check_finds_missing_label_files(tiny_copy):
    os.remove(osp.join(tiny_copy, 'unified_parsing.json'))
    os.remove(
        osp.join(tiny_copy, 'scenes', 'object', 'validation', '00000.png'))
    with pytest.raises(
            UnifiedParsingDataError,
            match=r"scenes claims the task 'object' but .*"
            r'object/validation lacks the label maps of 1 of 2'):
        check_data(_check_cfg(tiny_copy), check_files=False)


# ------------------------------------------------------------------- tools


def _tool(*parts):
    return load_tool(osp.join(*parts))


def test_make_unified_parsing_tool(tmp_path, capsys):
    tool = _tool('dataset_converters', 'make_unified_parsing.py')
    out = str(tmp_path / 'up')
    args = [
        '--out', out, '--size', '64', '--num-train', 'scenes=2', 'materials=1',
        'textures=1', '--num-val', 'scenes=1', 'materials=1', 'textures=1'
    ]
    assert tool.main(args) == 0
    assert 'wrote unified parsing data' in capsys.readouterr().out
    assert len(os.listdir(osp.join(out, 'scenes', 'images', 'training'))) \
        == 2
    assert tool.main(args) == 0
    assert 'left unchanged' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='not {'):
        tool.main(args + ['--seed', '2'])
    with pytest.raises(SystemExit):
        tool.main(['--out', out, '--num-train', 'ade=3'])
    assert 'SOURCE one of' in capsys.readouterr().err


def test_check_unified_parsing_tool(tiny_copy, capsys):
    tool = _tool('analysis_tools', 'check_unified_parsing.py')
    assert tool.main([tiny_copy]) == 0
    out = capsys.readouterr().out
    assert 'training: scenes: 6 images, tasks object, part, scene ' \
        '(decoded and checked)' in out
    assert 'validation: textures: 1 images, tasks texture' in out
    path = osp.join(tiny_copy, 'scenes', 'part', 'training', '00000.png')
    part = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    obj = cv2.imread(path.replace('part', 'object'), cv2.IMREAD_UNCHANGED)
    part[obj == OBJECT_CLASSES.index('road')] = 1
    cv2.imwrite(path, part)
    assert tool.main([tiny_copy, '--quick']) == 0
    with pytest.raises(
            SystemExit,
            match=r"00000\.png has part 1 on pixels of object "
            r"'road'"):
        tool.main([tiny_copy])


def test_docs_dtd_example_writes_a_source_the_checker_accepts(
        tmp_path, capsys):
    """The DTD conversion example of docs/unified_parsing.md, run on a
    small fake DTD, then checked with the class lists given as JSON."""
    with open(osp.join(ROOT, 'docs', 'unified_parsing.md')) as f:
        blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
    code = [block for block in blocks if 'def dtd_to_source' in block]
    assert len(code) == 1
    namespace = {}
    exec(code[0], namespace)  # our own documentation, not outside input
    dtd = tmp_path / 'dtd'
    categories = ['banded', 'dotted']
    (dtd / 'labels').mkdir(parents=True)
    for split in ('train1', 'val1'):
        lines = []
        for category in categories:
            (dtd / 'images' / category).mkdir(parents=True, exist_ok=True)
            name = f'{category}_{split}.jpg'
            cv2.imwrite(
                str(dtd / 'images' / category / name),
                np.full((20, 30, 3), 99, np.uint8))
            lines.append(f'{category}/{name}\n')
        (dtd / 'labels' / f'{split}.txt').write_text(''.join(lines))
    root = tmp_path / 'data'
    namespace['dtd_to_source'](str(dtd), str(root / 'dtd'))
    meta = tmp_path / 'classes.json'
    meta.write_text(json.dumps(dict(texture_classes=categories)))
    tool = _tool('analysis_tools', 'check_unified_parsing.py')
    assert tool.main([str(root), '--metainfo', str(meta)]) == 0
    assert 'validation: dtd: 2 images, tasks texture' in \
        capsys.readouterr().out
    dataset = _dataset(str(root), metainfo=dict(texture_classes=categories))
    assert dataset[1]['data_samples'].texture_label == 1
    with pytest.raises(
            SystemExit,
            match="texture 'banded', which is not in "
            'the texture class list'):
        tool.main([str(root)])


def test_single_task_base_config_reads_the_scenes_objects(tiny_root):
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets',
                 'unified_parsing_objects.py'))
    assert cfg.train_dataloader.batch_sampler is None
    assert cfg.val_evaluator.type == 'IoUMetric'
    multi = _dataset(tiny_root, split='validation')
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.update(data_root=tiny_root, generator_cfg=TINY_CFG)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(val) == TINY_CFG['num_val']['scenes']
    offset = multi.source_indices()['scenes'][0]
    for index in range(len(val)):
        sample = val[index]['data_samples']
        assert sample.gt_sem_seg.data.shape == (1, 64, 64)
        assert torch.equal(
            sample.gt_sem_seg.data,
            multi[offset + index]['data_samples'].gt_sem_seg.data)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert train[0]['data_samples'].gt_sem_seg.data.shape == (1, 96, 96)


def test_sampler_reads_mmengine_samplers():
    """The attributes SourceBatchSampler reads exist on mmengine's own
    samplers (rank and world size set by hand, as two ranks would)."""
    dataset = FakeSourceDataset(dict(a=40, b=20))
    runs = []
    for rank in range(2):
        inner = InfiniteSampler(dataset, shuffle=True, seed=5)
        inner.rank, inner.world_size = rank, 2
        sampler = SourceBatchSampler(inner, batch_size=4)
        assert sampler.infinite and sampler.seed == 5
        runs.append(_batches(sampler, 30))
    assert [dataset.sources[b[0]] for b in runs[0]] == \
        [dataset.sources[b[0]] for b in runs[1]]
    assert not set(runs[0][0]) & set(runs[1][0])
    finite = DefaultSampler(dataset, shuffle=True, seed=5)
    sampler = SourceBatchSampler(finite, batch_size=4)
    assert not sampler.infinite
    first = list(sampler)
    finite.set_epoch(1)
    assert list(sampler) != first and len(first) == 15


def test_batches_of_every_source_train_the_multi_task_model(tiny_root):
    """The contract between data and model: batches of the base config's
    dataloaders (one source each) go through a tiny UnifiedParsingSegmentor
    with finite losses for exactly the tasks of the batch's source, and the
    validation batches give predictions for every task."""
    from mmengine.optim import OptimWrapper

    from helpers.unified_parsing_model import build_model, tiny_upp_model
    cfg = Config.fromfile(BASE_CFG)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.update(data_root=tiny_root, generator_cfg=TINY_CFG)
        loader.update(num_workers=0, persistent_workers=False)
    cfg.train_dataloader.batch_size = 2
    model = build_model(tiny_upp_model(size=(96, 96)))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    seen = set()
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=1)
    for _, batch in zip(range(12), loader):
        source = batch['data_samples'][0].source
        if source in seen:
            continue
        seen.add(source)
        losses = model.train_step(batch, optim)
        assert all(torch.isfinite(v).all() for v in losses.values())
        trained = {
            key.split('_', 1)[1]
            for key in losses if key.startswith('decode.loss_')
        }
        assert trained == set(batch['data_samples'][0].tasks), source
    assert seen == {'scenes', 'materials', 'textures'}
    model.eval()
    val = Runner.build_dataloader(cfg.val_dataloader, seed=0)
    for index, batch in enumerate(val):
        if index % 2:
            continue  # one image per source is enough
        (out, ) = model.test_step(batch)
        assert out.pred_sem_seg.data.shape == out.gt_sem_seg.data.shape
        assert out.pred_part_seg.data.shape == out.gt_part_seg.data.shape
        assert out.pred_material_seg.data.shape[-2:] == \
            out.gt_material_seg.data.shape[-2:]


def test_browse_dataset_draws_every_level(tiny_root, tmp_path, capsys):
    tool = _tool('analysis_tools', 'browse_dataset.py')
    out = tmp_path / 'browse'
    tool.main([
        BASE_CFG, '--out-dir',
        str(out), '-n', '3', '--cfg-options',
        f'train_dataloader.dataset.data_root={tiny_root}',
        'train_dataloader.dataset.indices=[0,4,10]'
    ])
    printed = capsys.readouterr().out
    assert '0000_materials_00000: no image-level label' in printed
    assert '0001_scenes_00000: scene street' in printed
    assert '0002_textures_00000: texture blotchy' in printed
    drawn = cv2.imread(str(out / '0001_scenes_00000.png'))
    assert drawn.shape == (96, 4 * 96, 3)
    image, objects, parts, materials = np.split(drawn, 4, axis=1)
    assert (objects != image).any() and (parts != image).any()
    assert (materials == image).all()  # the scenes source has no materials
    drawn = cv2.imread(str(out / '0000_materials_00000.png'))
    image, objects, parts, materials = np.split(drawn, 4, axis=1)
    assert (materials != image).any() and (parts == image).all()


def _ensure_in_process(root, barrier, queue):
    barrier.wait()
    try:
        _, generated = ensure_unified_parsing(root, TINY_CFG)
        queue.put(('ok', generated))
    except Exception as e:  # reported to the test
        queue.put(('error', repr(e)))


def test_concurrent_first_use_is_safe(tiny_root, tmp_path):
    """Ranks that start together: one generates, the others use its result,
    no temporary folder is left."""
    root = str(tmp_path / 'data' / 'unified_parsing')
    ctx = multiprocessing.get_context('fork')
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_ensure_in_process, args=(root, barrier, queue))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(status == 'ok' for status, _ in results), results
    assert sum(generated for _, generated in results) == 1
    assert _digests(root) == _digests(tiny_root)
    assert os.listdir(tmp_path / 'data') == ['unified_parsing']


def test_error_part_map_without_object_map(tmp_path):
    img, maps = geometry_maps(32, 48)
    path = str(tmp_path / 'p.png')
    cv2.imwrite(path, maps['part'])
    load = TRANSFORMS.build(dict(type='LoadUnifiedParsingAnnotations'))
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'p\.png comes without an object label map'):
        load(dict(part_map_path=path, img=img))


def test_missing_root_without_generation_is_an_error(tmp_path):
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'data root .*nowhere is not a folder'):
        _dataset(str(tmp_path / 'nowhere'), generate_if_missing=False)
    assert not osp.exists(tmp_path / 'nowhere')


@pytest.mark.slow
def test_sampler_in_a_two_rank_gloo_group(tmp_path):
    """Under torch.distributed (gloo, 2 processes) both ranks draw the same
    source for every batch and take different samples of it."""
    ctx = multiprocessing.get_context('spawn')
    queue = ctx.Queue()
    sizes = dict(a=60, b=30, c=12)
    procs = [
        ctx.Process(
            target=sampler_rank_worker,
            args=(rank, 2, str(tmp_path / 'store'), sizes, queue))
        for rank in range(2)
    ]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=300) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    (_, sources0, batches0, rank0, ws0), (_, sources1, batches1, rank1,
                                          ws1) = results
    assert batches0 is not None and batches1 is not None, results
    assert (rank0, ws0, rank1, ws1) == (0, 2, 1, 2)
    assert sources0 == sources1 and len(set(sources0)) == 3
    # per-rank shares of 30, 15 and 6 samples: batches of 3 never straddle
    # two passes, so the two ranks' batches are always disjoint
    for b0, b1 in zip(batches0, batches1):
        assert not set(b0) & set(b1), (b0, b1)


# -------------------------------------------------- 16-bit maps, real data


def _many_classes_meta(num_objects):
    """Class lists with ``num_objects`` objects, the last one with parts."""
    classes = tuple(f'o{i}' for i in range(num_objects))
    return dict(classes=classes, part_classes={classes[-1]: ('other', 'p')})


def _write_16bit_source(root, num_objects):
    img, _ = geometry_maps(16, 24)
    obj = np.full((16, 24), 65535, np.uint16)
    obj[:8] = num_objects - 1  # an id beyond 8 bits
    obj[8:, :8] = 3
    part = np.full((16, 24), 255, np.uint8)  # 8-bit parts beside it
    part[:4] = 1
    part[4:8] = 0
    write_source(root, 'big', ['object', 'part'],
                 {'x': dict(img=img, object=obj, part=part)})


@pytest.mark.parametrize('ignore_index', [65535, 300])
def test_16_bit_label_maps(tmp_path, ignore_index):
    root = str(tmp_path / 'd')
    _write_16bit_source(root, 299)
    dataset = _dataset(
        root,
        generate_if_missing=False,
        metainfo=_many_classes_meta(299),
        ignore_index=ignore_index)
    gt = dataset[0]['data_samples']
    obj = gt.gt_sem_seg.data[0]
    assert (obj[:8] == 298).all() and (obj[8:, :8] == 3).all()
    # 65535 in the 16-bit file, 255 in the 8-bit one: "not labelled"
    assert (obj[8:, 8:] == ignore_index).all()
    part = gt.gt_part_seg.data[0]
    assert (part[:4] == 1).all() and (part[4:8] == 0).all()
    assert (part[8:] == ignore_index).all()
    assert (gt.gt_material_seg.data == ignore_index).all()
    assert check_unified_parsing_samples(dataset) == {'big': 1}


def test_16_bit_maps_with_255_ignore_index_and_few_classes(tmp_path):
    root = str(tmp_path / 'd')
    _write_16bit_source(root, 200)
    dataset = _dataset(
        root, generate_if_missing=False, metainfo=_many_classes_meta(200))
    load = dataset.pipeline.transforms[1]
    gt = load(dict(dataset.get_data_info(0)))['gt_seg_map']
    assert gt.dtype == np.uint16
    assert (gt[8:, 8:, 0] == 255).all() and (gt[:8, :, 0] == 199).all()


def test_8_bit_maps_stay_8_bit(tiny_root):
    dataset = _dataset(tiny_root)
    results = dataset.pipeline.transforms[1](dict(dataset.get_data_info(0)))
    assert results['gt_seg_map'].dtype == np.uint8


def test_many_classes_need_a_larger_ignore_index(tmp_path):
    root = str(tmp_path / 'd')
    _write_16bit_source(root, 299)
    with pytest.raises(
            ValueError,
            match=r'metainfo classes has 299 classes, so the id '
            r'255 is a class.*set ignore_index=65535'):
        _dataset(
            root, generate_if_missing=False, metainfo=_many_classes_meta(299))


def test_16_bit_id_out_of_range_named(tmp_path):
    root = str(tmp_path / 'd')
    _write_16bit_source(root, 299)
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'object/training/x\.png holds the object id '
            r'298, out of range: there are 280 object classes'):
        _dataset(
            root,
            generate_if_missing=False,
            ignore_index=65535,
            metainfo=_many_classes_meta(280))[0]


def test_parts_not_annotated_are_ignored_not_other(tmp_path):
    """An object whose parts are not annotated in an image carries "not
    labelled" part pixels: accepted, and packed as ignore_index."""
    img, maps = geometry_maps(32, 48)
    tree = OBJECT_CLASSES.index('tree')
    maps['object'][:] = tree
    maps['part'][:] = 255
    maps['part'][:8] = 1
    maps['part'][8:16] = 0
    root = str(tmp_path / 'd')
    write_source(root, 's', ['object', 'part'], {'x': dict(img=img, **maps)})
    part = _dataset(
        root, generate_if_missing=False)[0]['data_samples'].gt_part_seg.data[0]
    assert (part[16:] == 255).all() and (part[:8] == 1).all()


def test_scene_label_null_is_not_labelled(tmp_path):
    img, maps = geometry_maps(16, 16)
    root = str(tmp_path / 'd')
    write_source(
        root,
        's', ['object', 'scene'], {
            'x': dict(img=img, object=maps['object']),
            'y': dict(img=img, object=maps['object'])
        },
        labels=dict(x=dict(scene=None), y=dict(scene='park')))
    dataset = _dataset(root, generate_if_missing=False)
    assert [
        dataset[i]['data_samples'].metainfo['scene_label'] for i in range(2)
    ] == [-1, SCENE_CLASSES.index('park')]


def test_source_metainfo_must_match_and_can_be_read(tmp_path):
    root = str(tmp_path / 'd')
    _write_16bit_source(root, 299)
    meta = _many_classes_meta(299)
    with open(osp.join(root, 'big', 'metainfo.json'), 'w') as f:
        json.dump(
            dict(
                classes=list(meta['classes']),
                part_classes={'o298': ['other', 'p']}), f)
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'big/metainfo\.json gives other classes than '
            r'the dataset'):
        _dataset(root, generate_if_missing=False, ignore_index=65535)
    dataset = _dataset(
        root,
        generate_if_missing=False,
        ignore_index=65535,
        metainfo_from_sources=True)
    assert len(dataset.metainfo['classes']) == 299
    assert dataset.metainfo['part_classes'] == {'o298': ('other', 'p')}
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'metainfo\.json gives other classes than '
            'metainfo'):
        _dataset(
            root,
            generate_if_missing=False,
            ignore_index=65535,
            metainfo_from_sources=True,
            metainfo=_many_classes_meta(298))


def test_task_branch_crops_textures_only(tiny_root):
    branch = TRANSFORMS.build(
        dict(
            type='TaskBranch',
            branches=dict(
                texture=[dict(type='RandomCrop', crop_size=(16, 16))]),
            default=[dict(type='Resize', scale=(32, 32))]))
    dataset = _dataset(tiny_root)
    by_source = {
        dataset.get_data_info(i)['source']: i
        for i in range(len(dataset))
    }
    shapes = {}
    for source, index in by_source.items():
        results = dataset.pipeline.transforms[1](
            dataset.pipeline.transforms[0](dict(dataset.get_data_info(index))))
        shapes[source] = branch(results)['img'].shape[:2]
    assert shapes == dict(
        scenes=(32, 32), materials=(32, 32), textures=(16, 16))
    with pytest.raises(ValueError, match=r"tasks \['textures'\]"):
        TRANSFORMS.build(dict(type='TaskBranch', branches=dict(textures=[])))


def test_sampler_source_weights_by_size():
    dataset = FakeSourceDataset(dict(a=30, b=10, c=5))
    sampler = SourceBatchSampler(
        FakeSampler(dataset),
        batch_size=1,
        source_weights=dict(a='size', b='size', c=0))
    np.testing.assert_allclose(sampler.probs, [0.75, 0.25, 0.0])
    with pytest.raises(ValueError, match='or "size"'):
        SourceBatchSampler(
            FakeSampler(dataset),
            batch_size=1,
            source_weights=dict(a='big', b=1, c=0))


BRODEN_RECIPE = osp.join(ROOT, 'configs', 'unified_parsing',
                         'upernet-upp_r50_8xb2-100k_broden-plus.py')


def test_real_data_configs_never_generate():
    """Every config whose unified parsing data is not the embedded data
    turns generation off, so that a wrong data_root is an error."""
    checked = 0
    for folder, _, files in os.walk(osp.join(ROOT, 'configs')):
        for name in files:
            if not name.endswith('.py') or '_base_' in folder:
                continue
            cfg = Config.fromfile(osp.join(folder, name))
            for key in ('train_dataloader', 'val_dataloader'):
                dataset = cfg.get(key, {}).get('dataset', {})
                if dataset.get('type') != 'UnifiedParsingDataset' or \
                        dataset.get('data_root') == 'data/unified_parsing':
                    continue
                assert dataset.get('generate_if_missing') is False, name
                checked += 1
    assert checked >= 2


def test_broden_recipe_wrong_data_root_is_an_error(tmp_path):
    cfg = Config.fromfile(BRODEN_RECIPE)
    dataset = dict(cfg.train_dataloader.dataset)
    dataset['data_root'] = str(tmp_path / 'no_such_folder')
    with pytest.raises(
            UnifiedParsingDataError,
            match=r'unified parsing data root .*no_such_folder is '
            'not a folder'):
        DATASETS.build(dataset)
    assert not osp.exists(tmp_path / 'no_such_folder')


def test_broden_recipe_start_up_check_of_ignore_index(tmp_path):
    root = write_broden_like(tmp_path / 'broden', TINY_CFG)
    cfg = Config.fromfile(BRODEN_RECIPE)
    cfg.default_scope = 'upernet_mm'
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = root
    assert check_data(
        cfg, check_files=True) == {
            'train_dataloader.dataset': 13 + 6,
            'val_dataloader.dataset': 5 + 2
        }
    cfg.model.decode_head.ignore_index = 255
    with pytest.raises(
            DataCheckError,
            match=r'model\.decode_head\.ignore_index=255 but '
            r'train_dataloader\.dataset .* has ignore_index=65535'):
        check_data(cfg, check_files=False)
