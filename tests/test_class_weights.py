"""Class frequencies and weights of a dataset's labels
(upernet_mm.datasets.class_frequencies, tools/analysis_tools/
class_weights.py): hand-counted labels, the pipeline's LoadAnnotations
settings, dataset wrappers, bad label values, and the shared CamVid
training split against SegNet's published weights."""
import math
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from helpers import ROOT, run_tool
from helpers.camvid import CAMVID, needs_camvid
from helpers.class_weights import (HAND_COUNTED, label_folder_config,
                                   write_label_folder)
from upernet_mm.apis.config_dataset import (build_split_dataset,
                                            config_ignore_index)
from upernet_mm.datasets import CamVidDataset
from upernet_mm.datasets.class_frequencies import (
    LabelCountError, class_weight_line, count_classes, enet_weights,
    median_frequency_weights, sqrt_median_frequency_weights)
from upernet_mm.utils import register_all_modules

register_all_modules(init_default_scope=False)

# SegNet's median-frequency weights of the 11 CamVid classes (README of the
# shared copy; SegNet-Tutorial's segnet_train.prototxt)
SEGNET_WEIGHTS = [
    0.2595, 0.1826, 4.5640, 0.1417, 0.9051, 0.3826, 9.6446, 1.8418, 0.6823,
    6.2478, 7.3614
]


def _counts(tmp_path, **dataset):
    write_label_folder(tmp_path)
    cfg = Config(label_folder_config(tmp_path, **dataset))
    return count_classes(build_split_dataset(cfg), config_ignore_index(cfg))


def test_hand_counted_labels(tmp_path):
    counts = _counts(tmp_path)
    assert counts.classes == ('a', 'b', 'c', 'd')
    assert counts.pixels.tolist() == [5, 5, 4, 0]
    # c (index 2) is only in the second map (8 labelled pixels); a and b
    # in both (6 + 8)
    assert counts.image_pixels.tolist() == [14, 14, 8, 0]
    assert counts.images.tolist() == [2, 2, 1, 0]
    assert counts.ignored == 2 and counts.num_images == 2
    median = median_frequency_weights(counts)
    # freq = 5/14, 5/14, 4/8; median 5/14
    np.testing.assert_allclose(median, [1, 1, (5 / 14) / 0.5, 0])
    enet = enet_weights(counts)
    np.testing.assert_allclose(
        enet, [1 / math.log(1.02 + p) for p in (5 / 14, 5 / 14, 4 / 14, 0)])
    assert class_weight_line(median, 2) == \
        'class_weight=[1.00, 1.00, 0.71, 0.00]'


def test_labels_read_through_the_pipeline_load_annotations(tmp_path):
    # reduce_zero_label as the dataset and its LoadAnnotations apply it:
    # 0 becomes the ignore index, 1..3 become 0..2, 255 stays ignored
    counts = _counts(tmp_path, reduce_zero_label=True)
    raw = HAND_COUNTED
    zeros = sum(int((m == 0).sum()) for m in raw)
    assert counts.ignored == 2 + zeros
    assert counts.pixels.tolist() == [
        sum(int((m == v).sum()) for m in raw) for v in (1, 2, 3, 4)
    ]


def test_wrapped_dataset_counts_each_sample_once(tmp_path):
    write_label_folder(tmp_path)
    cfg = label_folder_config(tmp_path)
    cfg['train_dataloader']['dataset'] = dict(
        type='RepeatDataset',
        times=3,
        dataset=cfg['train_dataloader']['dataset'])
    cfg = Config(cfg)
    counts = count_classes(build_split_dataset(cfg))
    assert counts.num_images == 2 and counts.pixels.tolist() == [5, 5, 4, 0]


def test_value_outside_the_classes_names_file_and_value(tmp_path):
    write_label_folder(tmp_path, stray_value=7)
    cfg = Config(label_folder_config(tmp_path))
    with pytest.raises(
            LabelCountError,
            match=r'annotation .*0001.png has label value\(s\) '
            r'7 \(3 pixels\) .*outside 0..3'):
        count_classes(build_split_dataset(cfg))


def test_ignore_index_comes_from_the_heads(tmp_path):
    cfg = Config(label_folder_config(tmp_path, ignore_index=3))
    assert config_ignore_index(cfg) == 3
    cfg.model.auxiliary_head = dict(num_classes=4, ignore_index=255)
    with pytest.raises(ValueError, match='different ignore indices'):
        config_ignore_index(cfg)


@pytest.mark.slow
def test_class_weights_tool(tmp_path):
    write_label_folder(tmp_path)
    config = tmp_path / 'cfg.py'
    Config(label_folder_config(tmp_path)).dump(str(config))
    out = run_tool('analysis_tools/class_weights.py', config, '--decimals',
                   '3')
    assert 'class_weight=[1.000, 1.000, 0.714, 0.000]' in out.stdout
    assert 'median freq' in out.stdout and 'ENet' in out.stdout
    assert 'warning: no pixel of d' in out.stdout
    out = run_tool('analysis_tools/class_weights.py', config, '--method',
                   'enet')
    assert f'class_weight=[{1 / math.log(1.02 + 5 / 14):.4f}' in out.stdout
    out = run_tool('analysis_tools/class_weights.py', config, '--method',
                   'sqrt-median', '--decimals', '3')
    assert 'sqrt median freq' in out.stdout
    assert f'class_weight=[1.000, 1.000, {math.sqrt(5 / 7):.3f}, 0.000]' \
        in out.stdout


@needs_camvid
def test_shared_camvid_train_weights_near_segnet():
    # SegNet's weights are reproduced best with void counted as a twelfth
    # class of the median (so the raw labels, void = 11, are read here)
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type='BaseSegDataset',
                    data_root=CAMVID,
                    data_prefix=dict(
                        img_path='train', seg_map_path='trainannot'),
                    img_suffix='.png',
                    seg_map_suffix='.png',
                    metainfo=dict(classes=tuple(map(str, range(12)))),
                    pipeline=[dict(type='LoadAnnotations')]))))
    counts = count_classes(build_split_dataset(cfg))
    assert counts.num_images == 367 and counts.ignored == 0
    freq = counts.frequencies()
    weights = np.median(freq) / freq[:11]
    ratio = weights / np.asarray(SEGNET_WEIGHTS)
    others = np.delete(ratio, 6)
    assert np.all(np.abs(others - 1) < 0.12), ratio
    # sign_symbol (index 6): present in 351 of the 367 maps, its SegNet
    # weight 9.64 is 2.7x what these labels give (3.53)
    assert counts.images[6] == 351 and 0.3 < ratio[6] < 0.45, ratio


@needs_camvid
def test_camvid_config_weights_ignore_void():
    # the CamVid base config: void (11) is mapped to 255 by CamVidDataset
    # and counts for nothing; the ENet weights are the base config's
    # class_weight, the square roots of the median-frequency weights its
    # class_weight_sqrt_median
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', 'camvid.py'))
    cfg.train_dataloader.dataset.data_root = CAMVID
    counts = count_classes(build_split_dataset(cfg))
    assert counts.num_images == 367 and counts.ignored > 0
    assert counts.classes == CamVidDataset.METAINFO['classes']
    np.testing.assert_allclose(
        enet_weights(counts), cfg.class_weight, atol=1e-3)
    np.testing.assert_allclose(
        sqrt_median_frequency_weights(counts),
        cfg.class_weight_sqrt_median,
        atol=1e-4)
    # void left out of the median: every weight but sign_symbol's within
    # 25% of SegNet's
    ratio = median_frequency_weights(counts) / np.asarray(SEGNET_WEIGHTS)
    assert np.all(np.abs(np.delete(ratio, 6) - 1) < 0.25), ratio
