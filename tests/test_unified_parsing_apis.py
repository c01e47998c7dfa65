"""upernet_mm.apis for unified parsing models: class lists of every level,
drawings and the per-image summary."""
import numpy as np
import pytest
import torch

from helpers.unified_parsing_model import (build_model, make_sample, metainfo,
                                           tiny_upp_model)
from upernet_mm.apis import (draw_label_levels, draw_levels,
                             is_unified_parsing, level_panel, summarize_levels,
                             unified_dataset_meta, write_levels)


@pytest.fixture(scope='module')
def model_and_result():
    torch.manual_seed(0)
    model = build_model(tiny_upp_model()).eval()
    model.dataset_meta = dict(
        classes=metainfo()['classes'], palette=metainfo()['palette'])
    model.dataset_meta = unified_dataset_meta(model, metainfo())
    with torch.no_grad():
        result = model.test_step(
            dict(
                inputs=[torch.randint(0, 256, (3, 40, 48), dtype=torch.uint8)],
                data_samples=[make_sample('scenes', 40, 48)]))[0]
    return model, result


def test_level_names_are_checked_against_the_heads(model_and_result):
    model, _ = model_and_result
    assert is_unified_parsing(model)
    meta = metainfo()
    meta['material_classes'] = meta['material_classes'][:-1]
    with pytest.raises(
            ValueError,
            match='material_classes has 17 names but '
            'the material head predicts 18 classes'):
        unified_dataset_meta(model, meta)
    meta = metainfo()
    meta['part_classes'] = dict(meta['part_classes'], car=('other', 'body'))
    with pytest.raises(
            ValueError,
            match="gives object 'car' 2 part classes "
            'but the part head has 5'):
        unified_dataset_meta(model, meta)
    with pytest.warns(UserWarning, match='No scene class names'):
        named = unified_dataset_meta(
            model,
            dict(
                (k, v) for k, v in metainfo().items() if k != 'scene_classes'))
    assert named['scene_classes'] == tuple(str(i) for i in range(6))


def test_label_levels_draw_ground_truth_with_ignored_pixels():
    meta = dict(
        classes=('wall', 'car'),
        palette=[[10, 20, 30], [40, 50, 60]],
        part_palette=dict(car=[[1, 1, 1], [200, 0, 0]]),
        material_palette=[[0, 0, 250]])
    image = np.full((2, 4, 3), 100, np.uint8)
    objects = np.array([[0, 1, 1, 255], [1, 1, 0, 255]])
    parts = np.array([[255, 1, 0, 1], [255, 1, 1, 255]])
    materials = np.array([[0, 255, 0, 255], [255, 255, 255, 0]])
    drawn = draw_label_levels(
        meta, image, objects, parts, materials, opacity=1.0)
    assert drawn['object'][0, 0].tolist() == [10, 20, 30]
    assert drawn['object'][0, 1].tolist() == [40, 50, 60]
    assert (drawn['object'][:, 3] == 100).all()  # ignored: the image
    # car pixels in their part colours; wall has no parts, 255 no object
    assert drawn['part'][0, 1].tolist() == [200, 0, 0]
    assert drawn['part'][0, 2].tolist() == [1, 1, 1]
    assert drawn['part'][1, 0].tolist() == [100] * 3  # car, NO_PART
    assert (drawn['part'][:, [0, 3]] == 100).all()
    assert drawn['material'][0, 0].tolist() == [0, 0, 250]
    assert drawn['material'][0, 1].tolist() == [100] * 3
    with pytest.raises(ValueError, match=r'the parts map is \(2, 3\)'):
        draw_label_levels(meta, image, objects, parts[:, :3])


def test_drawings_summary_and_files(model_and_result, tmp_path):
    model, result = model_and_result
    image = np.random.default_rng(0).integers(
        0, 255, (40, 48, 3), dtype=np.uint8)
    drawn = draw_levels(model, image, result)
    assert set(drawn) == {'object', 'part', 'material'}
    assert all(d.shape == image.shape for d in drawn.values())
    # pixels of objects without parts keep the image in the part drawing
    parts = result.pred_part_seg.data[0].numpy()
    assert np.array_equal(drawn['part'][parts == 255], image[parts == 255])
    summary = summarize_levels(model, result)
    assert [c['index'] for c in summary['scene']] == torch.argsort(
        result.pred_scene.score, descending=True)[:5].tolist()
    assert abs(sum(p['fraction'] for p in summary['materials']) - 1) < 1e-5
    for part in summary['parts']:
        assert part['part'] in metainfo()['part_classes'][part['object']]
    panel = level_panel(image, drawn, summary)
    assert panel.shape[1] >= 4 * 48
    entry = write_levels(model, image[..., ::-1].copy(), result, str(tmp_path),
                         'x')
    for key in ('part_mask', 'material_mask', 'part_overlay',
                'material_overlay', 'levels'):
        assert (tmp_path / entry[key].split(str(tmp_path) + '/')[1]).exists()
