"""Training the unified parsing model safely: heads switched by the batch's
source (the same on every rank, tested on 2 gloo ranks with a collective
in the heads), no optimizer step on a batch without labels, the texture
loss off the padding, objects whose only part is 'other', and a resume at
or after the start of the texture stage that equals the straight run."""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner

from helpers import ROOT
from helpers.unified_parsing_data import TINY_CFG
from helpers.unified_parsing_ddp import (model_config, run_two_ranks,
                                         single_process_reference)
from helpers.unified_parsing_model import (build_model, make_batch,
                                           tiny_upp_model)
from upernet_mm.datasets.unified_parsing_classes import NUM_PARTS_OF_OBJECT
from upernet_mm.models.layers import PartGroups

QUICK_START = osp.join(
    ROOT, 'configs', 'unified_parsing',
    'upernet-upp_convnext-atto_1xb8-700iter_unified-parsing-96x96.py')


def _losses(model, batch):
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    return model(**data, mode='loss')


def test_heads_are_switched_by_the_source_not_by_the_labels():
    """The same source with and without part labels runs the same heads
    (the part head's gradient is zero, not absent, without labels)."""
    torch.manual_seed(0)
    model = build_model(tiny_upp_model())
    model.train()
    with_parts = make_batch('scenes')
    without_parts = make_batch('scenes')
    for sample in without_parts['data_samples']:
        sample.gt_part_seg.data[:] = 255
    keys = []
    for batch in (with_parts, without_parts):
        model.zero_grad(set_to_none=True)
        losses = _losses(model, batch)
        keys.append({k for k in losses if 'loss' in k})
        model.parse_losses(losses)[0].backward()
    assert keys[0] == keys[1] == {
        'decode.loss_object', 'decode.loss_part', 'decode.loss_scene'
    }
    assert losses['decode.loss_part'].item() == 0
    grad = model.decode_head.part_head.cls.weight.grad
    assert grad is not None and not grad.any()
    assert model.decode_head.material_head.cls.weight.grad is None


def test_no_optimizer_step_on_a_batch_without_labels():
    """A batch of a source without any label leaves every weight and the
    optimizer state as they were (AdamW with weight decay would otherwise
    move the weights with zero gradients through its momentum)."""
    torch.manual_seed(0)
    model = build_model(tiny_upp_model())
    model.train()
    optim = build_optim_wrapper(
        model,
        dict(
            type='OptimWrapper',
            optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.1)))
    model.train_step(make_batch('scenes'), optim)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    steps = {id(p): int(s['step']) for p, s in optim.optimizer.state.items()}
    empty = make_batch('scenes', scene=-1, seed=3)
    for sample in empty['data_samples']:
        for field in ('gt_sem_seg', 'gt_part_seg', 'gt_material_seg'):
            getattr(sample, field).data[:] = 255
    log = model.train_step(empty, optim)
    assert float(torch.as_tensor(log['loss']).detach()) == 0
    for name, param in model.named_parameters():
        assert torch.equal(param, before[name]), name
    assert steps == {
        id(p): int(s['step'])
        for p, s in optim.optimizer.state.items()
    }
    # a labelled batch steps again
    model.train_step(make_batch('scenes', seed=5), optim)
    assert not torch.equal(model.decode_head.conv_seg.weight,
                           before['decode_head.conv_seg.weight'])


def test_texture_loss_ignores_the_padding():
    """48x40 texture images padded to 64x64 by the data preprocessor: the
    loss is the cross-entropy over the logits of the image area only."""
    torch.manual_seed(0)
    model = build_model(tiny_upp_model(size=(64, 64)))
    model.train()
    batch = make_batch('textures', height=48, width=40)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    assert data['inputs'].shape[2:] == (64, 64)
    losses = model(**data, mode='loss')
    logits = model.decode_head.forward(
        model.extract_feat(data['inputs']), ('texture', ))['texture']
    # the finest level has stride 4: the image covers 12x10 of 16x16
    image = logits[:, :, :12, :10]
    labels = torch.tensor([s.texture_label for s in data['data_samples']])
    expected = F.cross_entropy(image, labels[:, None, None].expand(-1, 12, 10))
    torch.testing.assert_close(losses['decode.loss_texture'], expected)
    everywhere = F.cross_entropy(logits, labels[:, None,
                                                None].expand(-1, 16, 16))
    assert not torch.isclose(losses['decode.loss_texture'], everywhere)


def test_object_whose_only_part_is_other_trains():
    """num_parts 1 (part list ('other',)): a group of one channel, zero
    loss, prediction 0 on its pixels; its part-0 labels are valid."""
    groups = PartGroups([0, 1, 3])
    assert groups.num_parts == (0, 1, 3) and groups.num_channels == 4
    objects = torch.tensor([[[1, 1, 2, 2]]])
    parts = torch.tensor([[[0, 0, 2, 1]]])
    logits = torch.randn(1, 4, 1, 4, requires_grad=True)
    loss = groups.loss(logits, parts, objects)
    # the loss of object 1 is 0: only object 2's group contributes
    expected = F.cross_entropy(logits[0, 1:, 0, 2:].T, parts[0, 0, 2:])
    torch.testing.assert_close(loss, expected)
    pred = groups.predict(logits.detach(), objects)
    assert pred[0, 0, :2].tolist() == [0, 0]
    # a whole model in which an object class without parts gets the part
    # list ('other',), its pixels part label 0
    num_parts = list(NUM_PARTS_OF_OBJECT)
    zero = num_parts.index(0)
    num_parts[zero] = 1
    model = build_model(tiny_upp_model(num_parts=num_parts))
    batch = make_batch('scenes')
    for sample in batch['data_samples']:
        obj = sample.gt_sem_seg.data
        sample.gt_part_seg.data[obj == zero] = 0
    losses = _losses(model, batch)
    assert torch.isfinite(losses['decode.loss_part'])


@pytest.mark.slow
def test_two_ranks_with_a_collective_in_the_heads_match_one_process(tmp_path):
    """2 gloo processes, every norm layer all-reduces in its forward (the
    stand-in for SyncBN): rank 1's batch has no part labels at step 0 and
    no material label at step 1; step 2 has no label on either rank. The
    run finishes (the heads run by source on both ranks), both ranks end
    equal, and equal to one process averaging the two ranks' losses.
    (Before heads were switched by source, rank 1 skipped the part head at
    step 0 and the run failed within the collective timeout.)"""
    ranks = run_two_ranks(str(tmp_path))
    reference = single_process_reference()
    for key, value in reference.items():
        torch.testing.assert_close(
            ranks[0][key], ranks[1][key], rtol=0, atol=0, msg=key)
        torch.testing.assert_close(
            ranks[0][key], value, rtol=1e-4, atol=1e-5, msg=key)
    assert not torch.equal(reference['decode_head.part_head.cls.weight'],
                           _initial('decode_head.part_head.cls.weight'))


def _initial(key):
    torch.manual_seed(0)
    return build_model(model_config()).state_dict()[key]


def _resume_config(tmp_path, name, load_from=None):
    """The quick start with the tiny model on tiny data: 6 iterations, the
    texture stage from 3 at a texture_lr (5e-3) different from the main
    rate, a checkpoint every iteration, no validation."""
    data = dict(
        data_root=str(tmp_path / 'data'),
        generator_cfg=TINY_CFG,
        generate_if_missing=True)
    loader = dict(
        num_workers=0, persistent_workers=False, batch_size=2, dataset=data)
    cfg = Config.fromfile(QUICK_START)
    cfg.merge_from_dict(
        dict(
            model=dict(
                _delete_=True,
                **tiny_upp_model(
                    norm_cfg=dict(type='BN', requires_grad=True),
                    size=(96, 96))),
            train_dataloader=loader,
            optim_wrapper=dict(optimizer=dict(lr=1e-3)),
            param_scheduler=[
                dict(
                    type='LinearLR',
                    start_factor=1.0,
                    end_factor=0.1,
                    by_epoch=False,
                    begin=0,
                    end=3),
                dict(
                    type='LinearLR',
                    start_factor=1.0,
                    end_factor=0.5,
                    by_epoch=False,
                    begin=3,
                    end=6),
            ],
            train_cfg=dict(max_iters=6, val_interval=100),
            default_hooks=dict(
                logger=dict(interval=1),
                checkpoint=dict(interval=1, max_keep_ckpts=-1),
                visualization=dict(
                    _delete_=True, type='SegVisualizationHook', draw=False)),
            custom_hooks=[
                dict(
                    type='UnifiedParsingStageHook',
                    texture_begin=3,
                    texture_lr=5e-3)
            ],
            work_dir=str(tmp_path / name),
            experiment_name=name,
            resume=load_from is not None,
            load_from=load_from))
    cfg.train_dataloader.batch_sampler.stages[0]['begin'] = 3
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg',
                'test_dataloader', 'test_evaluator', 'test_cfg'):
        cfg[key] = None
    return cfg


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return ({
        k: v.detach().clone()
        for k, v in runner.model.state_dict().items()
    }, runner.optim_wrapper.get_lr()['lr'])


@pytest.mark.slow
def test_resume_at_and_after_texture_begin_equals_the_straight_run(tmp_path):
    """Resumed from the checkpoint saved at texture_begin (the natural
    resume point: the hook used to leave the decayed main-stage rate
    there) and from one inside the texture stage: the same weights and
    learning rate as the straight run."""
    straight, lr = _train(_resume_config(tmp_path, 'straight'))
    for start in (3, 4):
        checkpoint = str(tmp_path / 'straight' / f'iter_{start}.pth')
        resumed, resumed_lr = _train(
            _resume_config(tmp_path, f'resumed{start}', checkpoint))
        assert resumed_lr == pytest.approx(lr), start
        for key, value in straight.items():
            torch.testing.assert_close(
                resumed[key],
                value,
                rtol=0,
                atol=0,
                msg=f'{key} (from iter {start})')
