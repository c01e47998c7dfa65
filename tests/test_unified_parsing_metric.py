"""UnifiedParsingMetric against hand computations on small arrays."""
import pytest
import torch
from mmengine.structures import LabelData, PixelData
from mmseg.structures import SegDataSample

from upernet_mm.evaluation import UnifiedParsingMetric

META = dict(
    classes=('a', 'b', 'c', 'd'),
    part_classes={'b': ('other', 'x', 'y')},
    material_classes=('m0', 'm1'),
    scene_classes=('s0', 's1', 's2'),
    texture_classes=('t0', 't1', 't2'))


def _sample(tasks, **fields):
    sample = SegDataSample()
    meta = dict(
        tasks=tasks, scene_label=-1, texture_label=-1, img_path='x.png')
    for key, value in fields.items():
        if key.startswith(('gt_', 'pred_')) and key.endswith('_seg'):
            setattr(sample, key, PixelData(data=torch.tensor([value])))
        elif key in ('pred_scene', 'pred_texture'):
            score = torch.tensor(value)
            setattr(sample, key,
                    LabelData(score=score, label=score.argmax().view(1)))
        else:
            meta[key] = value
    sample.set_metainfo(meta)
    return sample


def _scene_image():
    return _sample(('object', 'part', 'scene'),
                   gt_sem_seg=[[0, 0, 1], [1, 2, 255]],
                   pred_sem_seg=[[0, 1, 1], [1, 2, 2]],
                   gt_part_seg=[[255, 255, 1], [2, 255, 255]],
                   pred_part_seg=[[255, 1, 1], [2, 255, 255]],
                   gt_material_seg=[[255] * 3] * 2,
                   pred_material_seg=[[0, 1, 1], [0, 1, 1]],
                   scene_label=2,
                   pred_scene=[0.1, 0.3, 0.6])


def _images():
    scene2 = _sample(('object', 'part', 'scene'),
                     gt_sem_seg=[[255]],
                     pred_sem_seg=[[3]],
                     gt_part_seg=[[255]],
                     pred_part_seg=[[255]],
                     scene_label=0,
                     pred_scene=[0.2, 0.5, 0.3])
    material = _sample(('material', ),
                       gt_sem_seg=[[255, 255], [255, 255]],
                       pred_sem_seg=[[1, 1], [1, 1]],
                       gt_part_seg=[[255, 255], [255, 255]],
                       pred_part_seg=[[1, 1], [1, 1]],
                       gt_material_seg=[[0, 1], [1, 255]],
                       pred_material_seg=[[0, 0], [1, 1]],
                       scene_label=1,
                       pred_scene=[1.0, 0.0, 0.0])
    texture = _sample(('texture', ),
                      texture_label=1,
                      pred_texture=[0.7, 0.2, 0.1])
    return [_scene_image(), scene2, material, texture]


@pytest.mark.parametrize('as_dict', [False, True])
def test_metric_equals_hand_computation(as_dict):
    metric = UnifiedParsingMetric()
    metric.dataset_meta = META
    images = _images()
    metric.process({}, [s.to_dict() for s in images] if as_dict else images)
    results = metric.compute_metrics(metric.results)
    # objects over the 5 labelled pixels of image 1 (class d is absent
    # from prediction and truth there: left out of the mean; image 2 has
    # no labelled pixel): IoU a = 1/2, b = 2/3, c = 1/1
    assert results['mIoU'] == pytest.approx(
        round(100 * (1 / 2 + 2 / 3 + 1) / 3, 2))
    assert results['aAcc'] == pytest.approx(80.0)
    # parts of b inside the predicted b (pixels 1, 2, 3): part x: truth
    # {2}, prediction {1, 2} -> 1/2; part y: {3} and {3} -> 1; 'other'
    # absent -> left out; mean over b's parts, then over objects (only b)
    assert results['part_mIoU'] == pytest.approx(75.0)
    assert results['part_mIoU_bg'] == pytest.approx(75.0)
    assert results['part_aAcc'] == pytest.approx(100.0)
    # scene: image 1 right (top-1), image 2's truth is ranked third; the
    # material image's scene label is not used (its tasks lack 'scene')
    assert results['scene_top1'] == pytest.approx(50.0)
    assert results['scene_top5'] == pytest.approx(100.0)
    # materials of the material image only: IoU m0 = 1/2, m1 = 1/2
    assert results['material_mIoU'] == pytest.approx(50.0)
    assert results['material_aAcc'] == pytest.approx(66.67)
    assert results['texture_top1'] == pytest.approx(0.0)


def test_part_predictions_count_only_inside_the_predicted_object():
    """A pixel of b predicted as a (which has no parts) is a miss for b's
    parts even though the part map says x there."""
    metric = UnifiedParsingMetric()
    metric.dataset_meta = META
    metric.process({}, [
        _sample(('object', 'part'),
                gt_sem_seg=[[1, 1]],
                pred_sem_seg=[[0, 1]],
                gt_part_seg=[[1, 1]],
                pred_part_seg=[[1, 1]])
    ])
    results = metric.compute_metrics(metric.results)
    assert results['part_mIoU'] == pytest.approx(50.0)
    assert results['part_aAcc'] == pytest.approx(50.0)


META2 = dict(
    META, part_classes={
        'b': ('other', 'x', 'y'),
        'c': ('other', 'z')
    })


def _part_metrics(*images, meta=META2):
    metric = UnifiedParsingMetric()
    metric.dataset_meta = meta
    metric.process({}, list(images))
    return metric.compute_metrics(metric.results)


def test_part_accuracy_counts_only_real_part_pixels():
    """As the reference: pixel accuracy over ground-truth parts > 0 only;
    part 0 ('other') enters only the "mIoU (bg)" number."""
    results = _part_metrics(
        _sample(('object', 'part'),
                gt_sem_seg=[[1, 1, 1]],
                pred_sem_seg=[[1, 1, 1]],
                gt_part_seg=[[0, 0, 1]],
                pred_part_seg=[[0, 0, 2]]))
    # the one pixel of a real part (x) is predicted y: 0 %, although the
    # two 'other' pixels are right
    assert results['part_aAcc'] == pytest.approx(0.0)
    # x: truth {2}, prediction {} -> 0; y: {} and {2} -> 0
    assert results['part_mIoU'] == pytest.approx(0.0)
    # with 'other' ({0, 1} both): (1 + 0 + 0) / 3
    assert results['part_mIoU_bg'] == pytest.approx(33.33)


def test_part_mean_skips_objects_without_ground_truth_parts():
    """c is predicted but has no ground-truth part pixel (> 0) anywhere:
    left out of the part means, as the reference does (it used to enter
    with IoU 0); an object whose truth is only 'other' is left out too."""
    results = _part_metrics(
        _sample(('object', 'part'),
                gt_sem_seg=[[1, 1, 0]],
                pred_sem_seg=[[1, 1, 2]],
                gt_part_seg=[[1, 2, 255]],
                pred_part_seg=[[1, 2, 1]]),
        _sample(('object', 'part'),
                gt_sem_seg=[[2, 2]],
                pred_sem_seg=[[2, 2]],
                gt_part_seg=[[0, 0]],
                pred_part_seg=[[1, 1]]))
    assert results['part_mIoU'] == pytest.approx(100.0)
    assert results['part_aAcc'] == pytest.approx(100.0)


def test_unannotated_parts_are_ignored():
    """255 on an object's pixels: its parts are not annotated in this
    image. Those pixels count neither as truth nor as prediction."""
    annotated = _sample(('object', 'part'),
                        gt_sem_seg=[[1, 1]],
                        pred_sem_seg=[[1, 1]],
                        gt_part_seg=[[1, 2]],
                        pred_part_seg=[[1, 2]])
    unannotated = _sample(('object', 'part'),
                          gt_sem_seg=[[1, 1, 1]],
                          pred_sem_seg=[[1, 1, 1]],
                          gt_part_seg=[[255, 255, 255]],
                          pred_part_seg=[[2, 2, 1]])
    results = _part_metrics(annotated, unannotated)
    assert results['part_mIoU'] == pytest.approx(100.0)
    assert results['part_aAcc'] == pytest.approx(100.0)
    # an image whose only part annotation is absent evaluates no part
    results = _part_metrics(unannotated)
    assert 'part_mIoU' not in results


def test_tasks_without_samples_are_left_out(caplog):
    metric = UnifiedParsingMetric()
    metric.dataset_meta = META
    metric.process({}, [_scene_image()])
    results = metric.compute_metrics(metric.results)
    assert 'material_mIoU' not in results and 'texture_top1' not in results
    assert set(results) == {
        'mIoU', 'aAcc', 'part_mIoU', 'part_mIoU_bg', 'part_aAcc', 'scene_top1',
        'scene_top5'
    }


def test_prediction_of_another_size_is_named():
    metric = UnifiedParsingMetric()
    metric.dataset_meta = META
    with pytest.raises(
            ValueError,
            match=r'pred_sem_seg has shape \(1, 2\) '
            r'but its ground truth has \(1, 3\)'):
        metric.process({}, [
            _sample(
                ('object', ), gt_sem_seg=[[0, 0, 1]], pred_sem_seg=[[0, 0]])
        ])


def test_missing_dataset_meta_is_named():
    metric = UnifiedParsingMetric()
    metric.dataset_meta = dict(classes=('a', ))
    with pytest.raises(KeyError, match="dataset_meta\\['part_classes'\\]"):
        metric.process({}, [_scene_image()])
        metric.compute_metrics(metric.results)
