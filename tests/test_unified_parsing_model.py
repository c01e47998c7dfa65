"""Unified parsing model: heads, grouped part loss, loss guards, which
parameters a source's batch trains, the texture branch, predictions."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData

from helpers.unified_parsing_model import (build_model, make_batch,
                                           make_sample, tiny_upp_model)
from upernet_mm.datasets.unified_parsing_classes import (MATERIAL_CLASSES,
                                                         NUM_PARTS_OF_OBJECT,
                                                         OBJECT_CLASSES,
                                                         SCENE_CLASSES,
                                                         TEXTURE_CLASSES)
from upernet_mm.models.layers import PartGroups
from upernet_mm.models.losses import image_label_loss, masked_cross_entropy


def _naive_part_loss(logits, parts, objects, num_parts):
    """Object by object: slice the group, cross-entropy over the object's
    labelled pixels, sum."""
    total = logits.new_zeros(())
    start = 0
    for obj, num in enumerate(num_parts):
        if num == 0:
            continue
        mask = (objects == obj) & (parts != 255)
        if mask.any():
            group = logits[:, start:start + num].permute(0, 2, 3, 1)[mask]
            total = total + F.cross_entropy(group, parts[mask])
        start += num
    return total


def test_grouped_part_loss_equals_per_object_computation():
    torch.manual_seed(0)
    groups = PartGroups(list(NUM_PARTS_OF_OBJECT))
    objects = torch.randint(0, len(OBJECT_CLASSES), (2, 12, 10))
    parts = torch.full_like(objects, 255)
    for obj, num in enumerate(NUM_PARTS_OF_OBJECT):
        mask = objects == obj
        if num:
            parts[mask] = torch.randint(0, num, (int(mask.sum()), ))
    # some object pixels without part label, some unlabelled objects
    parts[0, :3] = 255
    objects[1, -2:] = 255
    parts[1, -2:] = 255
    logits = (torch.randn(2, groups.num_channels, 12, 10) * 3)
    logits.requires_grad_(True)
    loss = groups.loss(logits, parts, objects)
    expected = _naive_part_loss(logits, parts, objects, NUM_PARTS_OF_OBJECT)
    assert torch.allclose(loss, expected, atol=1e-5)
    grad, = torch.autograd.grad(loss, logits)
    grad_expected, = torch.autograd.grad(expected, logits)
    assert torch.allclose(grad, grad_expected, atol=1e-6)
    # channels of objects without labelled pixels get no gradient
    assert groups.num_channels == sum(NUM_PARTS_OF_OBJECT)


def test_grouped_part_prediction_reads_the_predicted_objects_group():
    groups = PartGroups([0, 3, 2])
    logits = torch.zeros(1, 5, 1, 3)
    logits[0, 1, 0, 1] = 5.0  # object 1 (channels 0-2), part 1
    logits[0, 4, 0, 2] = 5.0  # object 2 (channels 3-4), part 1
    logits[0, 0, 0, 2] = 9.0  # object 1's part 0: not read for object 2
    pred = groups.predict(logits, torch.tensor([[[0, 1, 2]]]))
    assert pred.tolist() == [[[255, 1, 1]]]


def test_part_label_errors_name_the_field_and_value():
    groups = PartGroups(list(NUM_PARTS_OF_OBJECT))
    sky = OBJECT_CLASSES.index('sky')
    car = OBJECT_CLASSES.index('car')
    objects = torch.full((1, 4, 4), sky)
    parts = torch.full_like(objects, 255)
    parts[0, 0, 0] = 1
    with pytest.raises(
            ValueError,
            match=r'gt_part_seg: part label 1 .* '
            f'object class {sky}, which has no parts'):
        groups.check_labels(parts, objects)
    objects[:] = car
    num = NUM_PARTS_OF_OBJECT[car]
    parts[0, 0, 0] = num
    with pytest.raises(
            ValueError,
            match=f'part label {num} on pixels of '
            f'object class {car}, which has {num} part classes'):
        groups.check_labels(parts, objects)


def test_losses_are_zero_not_nan_without_labels():
    logits = torch.randn(2, 4, 3, 3, requires_grad=True)
    loss = masked_cross_entropy(logits, torch.full((2, 3, 3), 255))
    assert loss.item() == 0 and torch.isfinite(loss)
    loss = image_label_loss(
        torch.randn(2, 6, requires_grad=True), torch.tensor([-1, -1]))
    assert loss.item() == 0
    groups = PartGroups([0, 3])
    assert groups.loss(
        torch.randn(1, 3, 2, 2), torch.full((1, 2, 2), 255),
        torch.ones(1, 2, 2, dtype=torch.long)) is None


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build_model(tiny_upp_model())


def _grads(model, batch):
    model.train()
    model.zero_grad(set_to_none=True)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    return losses, {name: p.grad for name, p in model.named_parameters()}


def test_batch_without_scene_labels_runs_the_scene_head_at_zero(model):
    """Heads are switched by the source: a scenes batch without scene
    labels still runs the scene head, with a zero loss and zero (not
    absent) gradients, so every rank runs the same modules."""
    batch = make_batch('scenes', scene=-1)
    losses, grads = _grads(model, batch)
    assert losses['decode.loss_scene'].item() == 0
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    scene = [n for n in grads if n.startswith('decode_head.scene_head.')]
    assert scene and all(grads[n] is not None and not grads[n].any()
                         for n in scene)
    assert grads['decode_head.part_head.cls.weight'].any()


def _head_of(name):
    for head in ('scene_head', 'part_head', 'material_head', 'texture_head',
                 'object_conv', 'conv_seg', 'fpn_bottleneck'):
        if name.startswith(f'decode_head.{head}.'):
            return head
    return 'backbone' if name.startswith('backbone.') else 'trunk'


@pytest.mark.parametrize('source,changed', [
    ('scenes', {
        'scene_head', 'part_head', 'object_conv', 'conv_seg', 'fpn_bottleneck',
        'backbone', 'trunk'
    }),
    ('materials', {'material_head', 'backbone', 'trunk'}),
    ('textures', {'texture_head'}),
])
def test_a_source_batch_updates_only_the_heads_it_supervises(source, changed):
    """One AdamW step with weight decay: parameters of heads the source
    does not supervise have no gradient (None), so the optimizer skips them
    entirely (no decay, no moment update) and they stay bit-identical."""
    torch.manual_seed(0)
    model = build_model(tiny_upp_model())
    optim = build_optim_wrapper(
        model,
        dict(
            type='OptimWrapper',
            optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.1)))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.train()
    data = model.data_preprocessor(make_batch(source), True)
    losses = model(**data, mode='loss')
    parsed, _ = model.parse_losses(losses)
    optim.update_params(parsed)
    moved = {
        _head_of(n)
        for n, p in model.named_parameters() if not torch.equal(p, before[n])
    }
    assert moved == changed


def test_texture_branch_sends_no_gradient_into_the_backbone(model):
    batch = make_batch('textures')
    # texture labels together with objects: the backbone gets gradient
    # only from the other tasks
    for sample in batch['data_samples']:
        sample.set_metainfo(dict(tasks=('texture', )))
    losses, grads = _grads(model, batch)
    assert set(k for k in losses if 'loss' in k) == {'decode.loss_texture'}
    assert all(grads[n] is None for n in grads if n.startswith('backbone.'))
    assert grads['decode_head.texture_head.cls.weight'] is not None
    assert grads['decode_head.texture_head.convs.0.conv.weight'] is not None


def test_texture_stage_freezes_everything_but_the_texture_branch():
    torch.manual_seed(0)
    model = build_model(
        tiny_upp_model(norm_cfg=dict(type='BN', requires_grad=True)))
    model.set_stage('texture')
    model.train()
    assert not model.backbone.training
    assert model.decode_head.texture_head.training
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(
        n.startswith('decode_head.texture_head.') for n in trainable)
    stats = model.backbone.stem[1].running_mean.clone()
    # an object batch trains nothing in this stage: zero loss with a graph
    data = model.data_preprocessor(make_batch('scenes'), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_unsupervised'}
    assert losses['decode.loss_unsupervised'].item() == 0
    losses['decode.loss_unsupervised'].backward()
    data = model.data_preprocessor(make_batch('textures'), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_texture'}
    # frozen BatchNorm statistics
    assert torch.equal(model.backbone.stem[1].running_mean, stats)


def test_main_stage_does_not_train_texture():
    model = build_model(tiny_upp_model())
    model.set_stage('main')
    data = model.data_preprocessor(make_batch('textures'), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_unsupervised'}


def test_loss_weights_scale_each_task():
    torch.manual_seed(0)
    base = build_model(tiny_upp_model())
    weighted = build_model(
        tiny_upp_model(loss_weights=dict(part=1.0, scene=2.0)))
    weighted.load_state_dict(base.state_dict())
    batch = make_batch('scenes')
    out = [
        m(**m.data_preprocessor(copy.deepcopy(batch), True), mode='loss')
        for m in (base, weighted)
    ]
    assert torch.allclose(out[1]['decode.loss_part'],
                          2 * out[0]['decode.loss_part'])
    assert torch.allclose(out[1]['decode.loss_scene'],
                          8 * out[0]['decode.loss_scene'])
    assert torch.allclose(out[1]['decode.loss_object'],
                          out[0]['decode.loss_object'])


def test_predictions_of_every_task_at_the_original_size(model):
    model.eval()
    samples = [
        make_sample('scenes', 48, 40, ori_shape=(96, 80)),
        make_sample(
            'scenes',
            48,
            40,
            seed=1,
            ori_shape=(96, 80),
            flip=True,
            flip_direction='horizontal')
    ]
    batch = dict(
        inputs=[torch.randint(0, 256, (3, 48, 40), dtype=torch.uint8)] * 2,
        data_samples=samples)
    with torch.no_grad():
        results = model.test_step(batch)
    for result in results:
        for field in ('pred_sem_seg', 'pred_part_seg', 'pred_material_seg'):
            assert getattr(result, field).data.shape == (1, 96, 80)
        assert result.pred_scene.score.shape == (len(SCENE_CLASSES), )
        assert result.pred_texture.score.shape == (len(TEXTURE_CLASSES), )
        assert torch.isclose(result.pred_scene.score.sum(), torch.tensor(1.))
        assert torch.isclose(result.pred_texture.score.sum(), torch.tensor(1.))
        obj = result.pred_sem_seg.data[0]
        part = result.pred_part_seg.data[0]
        limits = torch.tensor(NUM_PARTS_OF_OBJECT)[obj]
        assert torch.all((part == 255) == (limits == 0))
        assert torch.all(part[limits > 0] < limits[limits > 0])
        assert result.pred_material_seg.data.max() < len(MATERIAL_CLASSES)
    # a flipped image's prediction is flipped back: the same input with
    # flip=True in its meta gives the mirrored logits
    with torch.no_grad():
        plain, flipped = (
            model.test_step(
                dict(
                    inputs=[batch['inputs'][0]],
                    data_samples=[
                        make_sample(
                            'scenes',
                            48,
                            40,
                            ori_shape=(96, 80),
                            flip=flip,
                            flip_direction='horizontal')
                    ]))[0] for flip in (False, True))
    assert torch.allclose(
        flipped.seg_logits.data, plain.seg_logits.data.flip(-1), atol=1e-5)
    for field in ('pred_sem_seg', 'pred_part_seg', 'pred_material_seg'):
        same = getattr(flipped, field).data == getattr(plain,
                                                       field).data.flip(-1)
        assert same.float().mean() > 0.99  # up to float ties


def test_data_preprocessor_pads_every_label_map():
    model = build_model(tiny_upp_model(size=(64, 64)))
    batch = make_batch('scenes', height=48, width=56)
    data = model.data_preprocessor(batch, True)
    assert data['inputs'].shape[2:] == (64, 64)
    for sample in data['data_samples']:
        for field in ('gt_sem_seg', 'gt_part_seg', 'gt_material_seg'):
            label = getattr(sample, field).data
            assert label.shape == (1, 64, 64)
            assert (label[:, 48:] == 255).all() and (label[:, :, 56:]
                                                     == 255).all()
    batch = make_batch('scenes', height=48, width=56)
    batch['data_samples'][1].gt_part_seg = PixelData(
        data=batch['data_samples'][1].gt_part_seg.data[:, :40])
    with pytest.raises(
            ValueError,
            match=r'gt_part_seg has shape \(1, 40, 56'
            r'\) but gt_sem_seg has \(1, 48, 56\)'):
        model.data_preprocessor(batch, True)


@pytest.mark.parametrize('field,value,message', [
    ('scene_label', len(SCENE_CLASSES),
     rf"'scene_label' is {len(SCENE_CLASSES)}, outside 0..5"),
    ('tasks', ('object', 'depth'), r"unknown task\(s\) \['depth'\]"),
])
def test_bad_metainfo_is_named(model, field, value, message):
    batch = make_batch('scenes')
    batch['data_samples'][0].set_metainfo({field: value})
    data = model.data_preprocessor(batch, True)
    with pytest.raises(ValueError, match=message):
        model(**data, mode='loss')


def test_material_id_out_of_range_is_named(model):
    batch = make_batch('materials')
    batch['data_samples'][1].gt_material_seg.data[0, 0, 0] = \
        len(MATERIAL_CLASSES)
    data = model.data_preprocessor(batch, True)
    with pytest.raises(
            ValueError,
            match=f'gt_material_seg holds material id '
            f'{len(MATERIAL_CLASSES)}, outside 0..'):
        model(**data, mode='loss')


@pytest.mark.parametrize('head,message', [
    (dict(tasks=('part', )), 'tasks must contain "object"'),
    (dict(tasks=('object', 'depth')), r"unknown task\(s\) \['depth'\]"),
    (dict(num_parts=[2, 3]), 'num_parts must list the part classes of each '
     'of the num_classes=13'),
    (dict(num_scene_classes=0), 'num_scene_classes must be a positive int'),
    (dict(loss_weights=dict(scene=-1)), r"loss_weights\['scene'\] must be"),
])
def test_bad_head_config_is_named(head, message):
    with pytest.raises(ValueError, match=message):
        build_model(tiny_upp_model(**head))


def test_trunk_parameter_names_are_uper_heads():
    """The shared trunk keeps mmseg's UPerHead names: a single-task
    UPerHead's weights load into it."""
    from helpers import tiny_uper_model
    single = build_model(
        tiny_uper_model(13,
                        tiny_upp_model()['backbone']['norm_cfg']))
    multi = build_model(tiny_upp_model())
    trunk = {k for k in single.decode_head.state_dict()}
    assert trunk <= set(multi.decode_head.state_dict())
    missing = multi.decode_head.load_state_dict(
        single.decode_head.state_dict(), strict=False).missing_keys
    assert all(
        k.split('.')[0] in ('object_conv', 'part_head', 'scene_head',
                            'material_head', 'texture_head') for k in missing)


def test_start_up_check_compares_head_and_dataset_class_lists():
    from types import SimpleNamespace

    from helpers.unified_parsing_model import metainfo
    from upernet_mm.datasets.checks import DataCheckError
    from upernet_mm.engine.unified_parsing_startup_check import \
        check_level_classes
    dataset = SimpleNamespace(metainfo=metainfo(), data_root='data/x')
    model = tiny_upp_model()
    check_level_classes(model, dataset, 'train_dataloader.dataset')
    wrong = tiny_upp_model(num_material_classes=17)
    with pytest.raises(
            DataCheckError,
            match='num_material_classes=17 but '
            'train_dataloader.dataset .* has 18 material classes'):
        check_level_classes(wrong, dataset, 'train_dataloader.dataset')
    parts = list(NUM_PARTS_OF_OBJECT)
    parts[6] = 4
    with pytest.raises(
            DataCheckError,
            match=r"first difference: object 6 "
            r"'car'\); set num_parts="):
        check_level_classes(tiny_upp_model(num_parts=parts), dataset, 'x')
    # a task the head leaves out is not compared
    check_level_classes(
        tiny_upp_model(tasks=('object', 'part'), num_material_classes=17),
        dataset, 'x')
