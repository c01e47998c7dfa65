"""SyntheticScenes: deterministic generation, folder layout and checks,
generation on first use (also concurrent), and the dataset in our scope."""
import hashlib
import json
import multiprocessing
import os
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS as MMSEG_DATASETS

from helpers import ROOT, load_tool
from upernet_mm.datasets import SyntheticScenesDataset
from upernet_mm.datasets.synthetic_scenes_classes import (CLASSES, METAINFO,
                                                          PALETTE)
from upernet_mm.datasets.synthetic_scenes_folder import (
    MANIFEST, SyntheticScenesFolderError, check_generator_cfg,
    check_synthetic_scenes, ensure_synthetic_scenes, write_synthetic_scenes)
from upernet_mm.datasets.synthetic_scenes_generator import render_scene
from upernet_mm.registry import DATASETS

BASE_CFG = osp.join(ROOT, 'configs', '_base_', 'datasets',
                    'synthetic_scenes.py')
TINY = dict(seed=0, num_train=8, num_val=3, size=64)


def _digests(root):
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path,
                                root)] = hashlib.sha256(f.read()).hexdigest()
    return out


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    """A tiny generated folder, shared by tests that only read it."""
    root = str(tmp_path_factory.mktemp('ss') / 'synthetic_scenes')
    write_synthetic_scenes(root, **TINY)
    return root


@pytest.fixture
def tiny_copy(tiny_root, tmp_path):
    """A private copy of the tiny folder, for tests that damage it."""
    root = str(tmp_path / 'synthetic_scenes')
    shutil.copytree(tiny_root, root)
    return root


def test_same_seed_same_bytes_and_different_seed_differs(tiny_root, tmp_path):
    again = str(tmp_path / 'again')
    write_synthetic_scenes(again, **TINY)
    assert _digests(again) == _digests(tiny_root)
    # a scene depends on its index only, not on the length of the split
    shorter = str(tmp_path / 'shorter')
    write_synthetic_scenes(shorter, **dict(TINY, num_train=2))
    short = _digests(shorter)
    assert short['images/training/00001.jpg'] == _digests(
        tiny_root)['images/training/00001.jpg']
    other = str(tmp_path / 'seed1')
    write_synthetic_scenes(other, **dict(TINY, seed=1))
    ref, new = _digests(tiny_root), _digests(other)
    scenes = [k for k in ref if k != MANIFEST]
    assert all(ref[k] != new[k] for k in scenes)


def test_layout_counts_and_manifest(tiny_root):
    for split, num in (('training', 8), ('validation', 3)):
        imgs = sorted(os.listdir(osp.join(tiny_root, 'images', split)))
        anns = sorted(os.listdir(osp.join(tiny_root, 'annotations', split)))
        assert imgs == [f'{i:05d}.jpg' for i in range(num)]
        assert anns == [f'{i:05d}.png' for i in range(num)]
    with open(osp.join(tiny_root, MANIFEST)) as f:
        manifest = json.load(f)
    assert manifest['generator'] == TINY
    assert manifest['splits'] == dict(training=8, validation=3)
    assert manifest['classes'] == list(CLASSES)
    assert check_synthetic_scenes(tiny_root) == manifest
    # nothing else is left next to the folder (temporary folders)
    assert os.listdir(osp.dirname(tiny_root)) == ['synthetic_scenes']


def test_labels_palette_sizes_and_class_coverage(tiny_root):
    assert 8 <= len(CLASSES) <= 16
    assert len(PALETTE) == len(CLASSES)
    assert len({tuple(c) for c in PALETTE}) == len(PALETTE)
    assert all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in PALETTE)
    assert SyntheticScenesDataset.METAINFO is METAINFO
    seen = set()
    for split in ('training', 'validation'):
        for i in range(TINY['num_train'] if split == 'training' else 3):
            img = cv2.imread(
                osp.join(tiny_root, 'images', split, f'{i:05d}.jpg'))
            ann = cv2.imread(
                osp.join(tiny_root, 'annotations', split, f'{i:05d}.png'),
                cv2.IMREAD_UNCHANGED)
            assert img.shape == (64, 64, 3)
            assert ann.shape == (64, 64) and ann.dtype == np.uint8
            assert ann.max() < len(CLASSES)
            if split == 'training':
                seen |= set(np.unique(ann).tolist())
    assert seen == set(range(len(CLASSES)))


def test_render_scene_checks_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match='kind'):
        render_scene(rng, 'beach')
    with pytest.raises(ValueError, match='size'):
        render_scene(rng, 'street', size=32)
    with pytest.raises(ValueError, match="unknown.*'sed'"):
        check_generator_cfg(dict(sed=1))
    with pytest.raises(ValueError, match='num_val must be an integer >= 1'):
        check_generator_cfg(dict(num_val=0))


def test_never_writes_over_existing_data(tiny_copy, tmp_path):
    before = _digests(tiny_copy)
    mtimes = {k: os.stat(osp.join(tiny_copy, k)).st_mtime_ns for k in before}
    with pytest.raises(FileExistsError, match='never written over'):
        write_synthetic_scenes(tiny_copy, **TINY)
    manifest, generated = ensure_synthetic_scenes(
        tiny_copy, dict(TINY, seed=5, num_train=20))
    assert not generated and manifest['generator'] == TINY
    # the dataset uses it as it is (with a warning about the settings)
    ds = SyntheticScenesDataset(
        data_root=tiny_copy,
        data_prefix=dict(
            img_path='images/training', seg_map_path='annotations/training'),
        generator_cfg=dict(TINY, seed=5))
    assert len(ds) == 8
    assert _digests(tiny_copy) == before
    assert mtimes == {
        k: os.stat(osp.join(tiny_copy, k)).st_mtime_ns
        for k in before
    }
    # a non-empty folder that is not SyntheticScenes is not touched either
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    with pytest.raises(
            SyntheticScenesFolderError,
            match=re.escape(f'{other} exists but has no')):
        ensure_synthetic_scenes(str(other), TINY)
    assert os.listdir(other) == ['notes.txt']


@pytest.mark.parametrize('damage, message', [
    ('remove_annotation', r'annotations/training lacks 1 of 8 files '
     r'\(00003.png\)'),
    ('remove_split', r'folder .*images/validation is missing'),
    ('extra_image', r'images/training has 1 unexpected files \(extra.jpg\)'),
    ('empty_image', r'images/training has 1 empty files \(00002.jpg\)'),
    ('remove_manifest', 'has no synthetic_scenes.json'),
    ('bad_manifest', 'synthetic_scenes.json is unreadable'),
])
def test_incomplete_folder_raises_naming_the_fault(tiny_copy, damage, message):
    if damage == 'remove_annotation':
        os.remove(osp.join(tiny_copy, 'annotations/training/00003.png'))
    elif damage == 'remove_split':
        shutil.rmtree(osp.join(tiny_copy, 'images/validation'))
    elif damage == 'extra_image':
        shutil.copy(
            osp.join(tiny_copy, 'images/training/00000.jpg'),
            osp.join(tiny_copy, 'images/training/extra.jpg'))
    elif damage == 'empty_image':
        open(osp.join(tiny_copy, 'images/training/00002.jpg'), 'w').close()
    elif damage == 'remove_manifest':
        os.remove(osp.join(tiny_copy, MANIFEST))
    else:
        with open(osp.join(tiny_copy, MANIFEST), 'w') as f:
            f.write('{"splits": ')
    before = _digests(tiny_copy)
    with pytest.raises(SyntheticScenesFolderError, match=message) as info:
        SyntheticScenesDataset(
            data_root=tiny_copy,
            data_prefix=dict(
                img_path='images/training',
                seg_map_path='annotations/training'),
            generator_cfg=TINY)
    assert tiny_copy in str(info.value)
    assert f'remove {tiny_copy} to generate it again' in str(info.value)
    assert _digests(tiny_copy) == before


def _dataset_cfg(data_root, split='train'):
    cfg = Config.fromfile(BASE_CFG)
    loader = cfg.train_dataloader if split == 'train' else cfg.val_dataloader
    loader.dataset.data_root = data_root
    loader.dataset.generator_cfg = TINY
    return loader.dataset


def test_base_config_builds_in_our_scope_and_generates_on_first_use(
        scope, tmp_path):
    scope('upernet_mm')
    cfg = Config.fromfile(BASE_CFG)
    assert cfg.dataset_type == 'SyntheticScenesDataset'
    assert cfg.data_root == 'data/synthetic_scenes'
    assert cfg.val_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])
    root = str(tmp_path / 'data' / 'synthetic_scenes')
    train = DATASETS.build(_dataset_cfg(root, 'train'))
    assert type(train) is SyntheticScenesDataset
    assert check_synthetic_scenes(root)['generator'] == TINY
    assert len(train) == 8
    assert train.metainfo['classes'] == CLASSES
    assert train.metainfo['palette'] == PALETTE
    assert train.metainfo['reduce_zero_label'] is False
    sample = train[0]
    assert tuple(sample['inputs'].shape) == (3, 96, 96)
    seg = sample['data_samples'].gt_sem_seg.data
    assert tuple(seg.shape) == (1, 96, 96)
    assert set(seg.unique().tolist()) <= set(range(len(CLASSES))) | {255}
    # the validation dataset finds the folder the training one generated
    before = _digests(root)
    val = DATASETS.build(_dataset_cfg(root, 'val'))
    assert len(val) == 3 and _digests(root) == before
    sample = val[1]
    assert tuple(sample['data_samples'].gt_sem_seg.data.shape) == (1, 64, 64)
    ann = cv2.imread(
        osp.join(root, 'annotations/validation/00001.png'),
        cv2.IMREAD_UNCHANGED)
    assert (sample['data_samples'].gt_sem_seg.data[0].numpy() == ann).all()


def test_prefixed_type_builds_in_mmseg_scope(scope, tiny_root):
    scope('mmseg')
    ds = MMSEG_DATASETS.build(
        dict(
            type='upernet_mm.SyntheticScenesDataset',
            data_root=tiny_root,
            data_prefix=dict(
                img_path='images/validation',
                seg_map_path='annotations/validation'),
            generator_cfg=TINY))
    assert type(ds) is SyntheticScenesDataset and len(ds) == 3


def test_lazy_init_generates_only_on_full_init(tmp_path):
    root = str(tmp_path / 'empty')
    os.mkdir(root)  # an empty folder counts as missing
    ds = SyntheticScenesDataset(
        data_root=root,
        data_prefix=dict(
            img_path='images/training', seg_map_path='annotations/training'),
        generator_cfg=TINY,
        lazy_init=True)
    assert os.listdir(root) == []
    ds.full_init()
    assert len(ds) == 8 and check_synthetic_scenes(root)
    with pytest.raises(ValueError, match='needs data_root'):
        SyntheticScenesDataset(data_prefix=dict(img_path=root))


def _ensure_in_process(root, barrier, queue):
    barrier.wait()
    try:
        _, generated = ensure_synthetic_scenes(root, TINY)
        queue.put(('ok', generated))
    except Exception as e:  # reported to the test
        queue.put(('error', repr(e)))


def test_concurrent_first_use_is_safe(tiny_root, tmp_path):
    root = str(tmp_path / 'data' / 'synthetic_scenes')
    ctx = multiprocessing.get_context('fork')
    barrier, queue = ctx.Barrier(3), ctx.Queue()
    procs = [
        ctx.Process(target=_ensure_in_process, args=(root, barrier, queue))
        for _ in range(3)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(status == 'ok' for status, _ in results), results
    assert sum(generated for _, generated in results) == 1
    assert _digests(root) == _digests(tiny_root)
    assert os.listdir(tmp_path / 'data') == ['synthetic_scenes']


def test_make_synthetic_scenes_tool(tmp_path, capsys):
    tool = load_tool('dataset_converters/make_synthetic_scenes.py')
    out = str(tmp_path / 'ss')
    args = [
        '--out', out, '--num-train', '2', '--num-val', '1', '--size', '64',
        '--seed', '3'
    ]
    assert tool.main(args) == 0
    assert 'wrote SyntheticScenes' in capsys.readouterr().out
    before = _digests(out)
    assert tool.main(args) == 0
    assert 'left unchanged' in capsys.readouterr().out
    with pytest.raises(SystemExit, match=re.escape("not {'seed': 4")):
        tool.main(args[:-1] + ['4'])
    os.remove(osp.join(out, 'images/validation/00000.jpg'))
    with pytest.raises(SystemExit, match='lacks 1 of 1 files'):
        tool.main(args)
    with pytest.raises(SystemExit, match='size must be an integer >= 64'):
        tool.main(['--out', str(tmp_path / 'x'), '--size', '16'])
    del before['images/validation/00000.jpg']
    assert _digests(out) == before
