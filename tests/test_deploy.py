"""Deploy mode: BatchNorm folding, channels_last, bf16, torch.compile, and
the DeployHook behind tools/test.py --deploy."""
import copy

import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.config import ConfigDict

from helpers.deploy import logits, small_segmentor
from upernet_mm.deploy import deploy_segmentor, fold_batchnorm
from upernet_mm.deploy.cli import add_deploy_args, deploy_kwargs
from upernet_mm.deploy.pytorch import onednn
from upernet_mm.deploy.pytorch.split_conv import SplitInputConvModule

TOL = 1e-4


def _bn_stats(module, seed=0):
    """Non-trivial BN statistics (fresh BNs fold to the identity)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(
                    torch.randn(m.num_features, generator=gen))
                m.running_var.copy_(
                    torch.rand(m.num_features, generator=gen) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.randn(m.num_features, generator=gen))
                    m.bias.copy_(torch.randn(m.num_features, generator=gen))
    return module.eval()


def _count_bn(module):
    return sum(isinstance(m, nn.BatchNorm2d) for m in module.modules())


@pytest.mark.parametrize('order,folds', [
    (('conv', 'norm', 'act'), True),
    (('norm', 'conv', 'act'), False),
    (('conv', 'act', 'norm'), False),
])
def test_conv_module_folds_only_when_norm_follows_conv(order, folds):
    channels = 4 if order[0] == 'norm' else 3
    m = _bn_stats(
        ConvModule(
            channels, 4, 3, padding=1, order=order, norm_cfg=dict(type='BN')))
    x = torch.randn(2, channels, 9, 7)
    with torch.no_grad():
        ref = m(x)
    report = fold_batchnorm(m)
    assert (report.folded == ['bn']) == folds
    assert (report.kept == []) == folds
    assert m.with_norm != folds
    with torch.no_grad():
        torch.testing.assert_close(m(x), ref, atol=1e-5, rtol=1e-5)


def test_sequential_folds_adjacent_pairs_only():
    seq = _bn_stats(
        nn.Sequential(
            nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
            nn.Conv2d(4, 4, 1), nn.ReLU(), nn.BatchNorm2d(4),
            nn.Conv2d(4, 5, 1, bias=False), nn.BatchNorm2d(5, affine=False)))
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        ref = seq(x)
    report = fold_batchnorm(seq)
    assert report.folded == ['1', '7']
    assert report.kept == ['5']  # a ReLU sits between conv 3 and BN 5
    with torch.no_grad():
        torch.testing.assert_close(seq(x), ref, atol=1e-5, rtol=1e-5)


def test_split_input_conv_equals_conv_over_concatenation():
    m = _bn_stats(ConvModule(12, 5, 3, padding=1, norm_cfg=dict(type='BN')))
    parts = [torch.randn(2, c, 9, 7) for c in (4, 4, 4)]
    with torch.no_grad():
        ref = m(torch.cat(parts, 1))
    with pytest.raises(ValueError, match='norm folded'):
        SplitInputConvModule(m, [4, 4, 4])
    fold_batchnorm(m)
    split = SplitInputConvModule(m, [4, 4, 4])
    with torch.no_grad():
        torch.testing.assert_close(split(parts), ref, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(
            split(torch.cat(parts, 1)), ref, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match='sum to'):
        SplitInputConvModule(m, [4, 4])


def test_fold_needs_eval_mode():
    with pytest.raises(RuntimeError, match='eval'):
        fold_batchnorm(nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1)))


def _segmentor(backbone='convnext'):
    return small_segmentor(backbone)


def _logits(model, x):
    return logits(model, x)


@pytest.mark.parametrize('backbone', ['convnext', 'resnet'])
def test_fp32_deploy_matches_original(backbone):
    model = _segmentor(backbone)
    x = torch.randn(2, 3, 64, 96)
    ref = _logits(model, x)
    assert ref.std() > 0.1  # not a trivial model
    # winograd and fusion off: the direct convolutions of mmcv's modules
    # (Winograd's and the fused ones are tested in test_deploy_fast.py)
    deployed = deploy_segmentor(
        copy.deepcopy(model), precision='fp32', winograd=False, fuse=False)
    out = _logits(deployed, x)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, ref, atol=TOL, rtol=0)
    # every BN of the inference path folded, weights NHWC
    assert _count_bn(deployed.decode_head) == 0
    assert _count_bn(deployed.backbone) == 0
    assert _count_bn(model.decode_head) > 0
    w = deployed.decode_head.fpn_convs[0].conv.weight
    assert w.is_contiguous(memory_format=torch.channels_last)
    split = deployed.decode_head.fpn_bottleneck
    assert isinstance(split, SplitInputConvModule)
    assert split.weights[0].is_contiguous(memory_format=torch.channels_last)


def test_fp32_deploy_through_test_step_and_slide():
    model = _segmentor()
    model.test_cfg = ConfigDict(
        mode='slide', crop_size=(48, 48), stride=(32, 32))
    deployed = deploy_segmentor(copy.deepcopy(model))
    gen = torch.Generator().manual_seed(0)
    data = dict(inputs=[
        torch.randint(0, 256, (3, 70, 90), generator=gen, dtype=torch.uint8)
    ])
    from mmseg.structures import SegDataSample
    data['data_samples'] = [
        SegDataSample(metainfo=dict(img_shape=(70, 90), ori_shape=(70, 90)))
    ]
    ref = model.test_step(copy.deepcopy(data))[0].seg_logits.data
    out = deployed.test_step(copy.deepcopy(data))[0].seg_logits.data
    torch.testing.assert_close(out, ref, atol=TOL, rtol=0)


def test_bf16_deploy_keeps_float32_logits_and_classes():
    model = _segmentor()
    x = torch.randn(2, 3, 64, 96)
    ref = _logits(model, x)
    deployed = deploy_segmentor(copy.deepcopy(model), precision='bf16')
    assert deployed.backbone.downsample_layers[0][0].weight.dtype == \
        torch.bfloat16
    # fused (FusedConvAct) or not (ConvModule, on a CPU without bfloat16
    # instructions): the weights are bfloat16
    assert next(deployed.decode_head.bottleneck.parameters()).dtype == \
        torch.bfloat16
    # the classifier computes in bfloat16 too, its output cast to float32
    assert deployed.decode_head.conv_seg.weight.dtype == torch.bfloat16
    out = _logits(deployed, x)
    assert out.dtype == torch.float32
    diff = (out - ref).abs().max().item()
    assert 0 < diff < 0.2  # bf16 rounding, not garbage
    agree = (out.argmax(1) == ref.argmax(1)).float().mean().item()
    assert agree > 0.97
    # fp32_classifier=True keeps the classifier in float32
    kept = deploy_segmentor(
        copy.deepcopy(model), precision='bf16', fp32_classifier=True)
    assert kept.decode_head.conv_seg.weight.dtype == torch.float32
    assert _logits(kept, x).dtype == torch.float32


def test_compile_wires_backbone_and_head():
    model = _segmentor()
    x = torch.randn(1, 3, 64, 64)
    ref = _logits(model, x)
    # the eager backend checks the wiring without minutes of compilation
    deployed = deploy_segmentor(
        copy.deepcopy(model),
        compile=True,
        compile_kwargs=dict(backend='eager'))
    assert deployed.backbone._compiled_call_impl is not None
    torch.testing.assert_close(_logits(deployed, x), ref, atol=TOL, rtol=0)


def test_deploy_rejects_bad_use():
    model = _segmentor()
    with pytest.raises(ValueError, match="precision must be one of"):
        deploy_segmentor(model, precision='fp16')
    deploy_segmentor(model)
    with pytest.raises(RuntimeError, match='already in deploy form'):
        deploy_segmentor(model)
    with pytest.raises(TypeError, match='backbone'):
        deploy_segmentor(nn.Conv2d(1, 1, 1))


def test_cli_flags():
    import argparse
    parser = argparse.ArgumentParser()
    add_deploy_args(parser)
    assert deploy_kwargs(parser.parse_args([])) is None
    assert deploy_kwargs(parser.parse_args(['--deploy'])) == dict(
        precision='fp32', compile=False)
    assert deploy_kwargs(parser.parse_args(['--deploy', 'bf16',
                                            '--compile'])) == dict(
                                                precision='bf16', compile=True)
    with pytest.raises(ValueError, match='--compile needs --deploy'):
        deploy_kwargs(parser.parse_args(['--compile']))


def test_deploy_hook_unwraps_and_deploys():
    from types import SimpleNamespace

    from upernet_mm.engine.hooks import DeployHook
    model = _segmentor()
    logs = []
    runner = SimpleNamespace(
        model=model, logger=SimpleNamespace(info=logs.append))
    DeployHook(precision='bf16').before_test(runner)
    assert model._upernet_mm_deployed['precision'] == 'bf16'
    assert logs and 'deploy form' in logs[0]
    with pytest.raises(ValueError, match='DeployHook: precision'):
        DeployHook(precision='int4')


def test_bf16_without_bfloat16_instructions_is_unfused(monkeypatch):
    # oneDNN has no fused bfloat16 kernels on a CPU without AVX512-BF16/AMX
    # ("could not create a primitive descriptor"): the default leaves the
    # layers unfused there, and fuse=True says why instead of failing later
    monkeypatch.setattr(onednn, 'native_bf16', lambda: False)
    model = deploy_segmentor(_segmentor(), precision='bf16')
    assert not any(
        isinstance(m, (onednn.FusedLinear, onednn.FusedConvAct))
        for m in model.modules())
    with pytest.raises(RuntimeError, match='bfloat16 instructions'):
        deploy_segmentor(_segmentor(), precision='bf16', fuse=True)
    monkeypatch.setattr(onednn, 'native_bf16', lambda: True)
    model = deploy_segmentor(_segmentor(), precision='bf16')
    assert any(
        isinstance(m, onednn.FusedLinear) for m in model.modules()) == \
        onednn.available()
