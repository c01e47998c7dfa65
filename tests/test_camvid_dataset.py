"""CamVidDataset on the shared SegNet-form copy of CamVid."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from helpers.camvid import CAMVID, CAMVID_CLASSES, needs_camvid
from upernet_mm.datasets import CamVidDataset
from upernet_mm.registry import DATASETS


def _dataset(split='train', img='train', ann='trainannot', **kwargs):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    return DATASETS.build(
        dict(
            type='CamVidDataset',
            data_root=CAMVID,
            data_prefix=dict(img_path=img, seg_map_path=ann),
            pipeline=pipeline,
            **kwargs))


@needs_camvid
@pytest.mark.parametrize('split,count', [('train', 367), ('val', 101)])
def test_splits_and_void(split, count):
    init_default_scope('upernet_mm')
    dataset = _dataset(img=split, ann=f'{split}annot')
    assert len(dataset) == count
    assert dataset.metainfo['classes'] == CAMVID_CLASSES
    assert len(dataset.metainfo['palette']) == 11
    # find a label map with void pixels: they become 255
    for index in range(len(dataset)):
        path = dataset.get_data_info(index)['seg_map_path']
        raw = np.array(Image.open(path))
        if (raw == 11).any():
            break
    else:
        pytest.fail(f'no void pixel in the {split} labels')
    sample = dataset[index]['data_samples']
    label = sample.gt_sem_seg.data[0].numpy()
    assert label.shape == (360, 480)
    np.testing.assert_array_equal(label == 255, raw == 11)
    np.testing.assert_array_equal(label[raw != 11], raw[raw != 11])


@needs_camvid
def test_class_subset_keeps_void_ignored():
    init_default_scope('upernet_mm')
    dataset = _dataset(metainfo=dict(classes=('sky', 'road', 'car')))
    assert dataset.label_map[11] == 255
    assert dataset.label_map[3] == 1
    assert dataset.metainfo['palette'] == [[128, 128, 128], [128, 64, 128],
                                           [64, 0, 128]]


def test_missing_folder_names_it(tmp_path):
    with pytest.raises(
            FileNotFoundError, match='trainannot.*ln -s|does '
            'not exist'):
        CamVidDataset(
            data_root=str(tmp_path),
            data_prefix=dict(img_path='train', seg_map_path='trainannot'))


def test_missing_label_names_files(tmp_path):
    (tmp_path / 'train').mkdir()
    (tmp_path / 'trainannot').mkdir()
    Image.new('RGB', (8, 6)).save(tmp_path / 'train' / 'a.png')
    Image.new('RGB', (8, 6)).save(tmp_path / 'train' / 'b.png')
    Image.new('L', (8, 6)).save(tmp_path / 'trainannot' / 'a.png')
    with pytest.raises(FileNotFoundError, match=r'(?s)1 of 2 images.*b\.png'):
        CamVidDataset(
            data_root=str(tmp_path),
            data_prefix=dict(img_path='train', seg_map_path='trainannot'))


def test_reduce_zero_label_refused():
    with pytest.raises(ValueError, match='reduce_zero_label.*sky'):
        CamVidDataset(reduce_zero_label=True, lazy_init=True)
