"""Fast deploy kernels: Winograd F(m x m, 3 x 3) convolutions (numerics
against float64 direct convolutions, odd sizes, padding edges, batches,
split inputs, chunking) and that deploy_segmentor takes them."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.config import ConfigDict
from mmseg.structures import SegDataSample

import upernet_mm.deploy.pytorch.winograd as W
from helpers.deploy import logits, small_segmentor
from upernet_mm.deploy import deploy_segmentor, fold_batchnorm
from upernet_mm.deploy.pytorch import onednn
from upernet_mm.deploy.pytorch.split_conv import SplitInputConvModule

TOL = 1e-4


@pytest.mark.parametrize('m', sorted(W.POINTS))
def test_matrices_compute_1d_correlation_exactly(m):
    at, g, bt = W.matrices(m)
    assert at.shape == (m, m + 2) and g.shape == (m + 2, 3)
    assert bt.shape == (m + 2, m + 2)
    # B^T rows are small integers (the fractions went into G)
    assert torch.equal(bt, bt.round())
    gen = torch.Generator().manual_seed(m)
    for _ in range(5):
        d = torch.randn(m + 2, generator=gen, dtype=torch.float64)
        f = torch.randn(3, generator=gen, dtype=torch.float64)
        ref = torch.stack([(f * d[i:i + 3]).sum() for i in range(m)])
        torch.testing.assert_close(
            at @ ((g @ f) * (bt @ d)), ref, atol=1e-12, rtol=0)


def test_matrices_reject_unknown_tile():
    with pytest.raises(ValueError, match='supported tile sizes'):
        W.matrices(5)


def _direct64(x, weight, bias):
    return F.conv2d(
        x.double(),
        weight.double(),
        None if bias is None else bias.double(),
        padding=1)


@pytest.mark.parametrize('m', sorted(W.POINTS))
@pytest.mark.parametrize(
    'shape,chunk',
    [
        ((1, 8, 5, 8, 8), 64),  # whole tiles
        ((3, 6, 4, 9, 7), 64),  # batch 3, odd sizes: padded last tiles
        ((2, 5, 3, 17, 11), 3),  # chunks of 1 tile row, partial last chunk
        ((2, 4, 6, 1, 1), 64),  # a single pixel: all padding
        ((1, 7, 2, 2, 13), 5),  # one tile row, wide
    ])
@pytest.mark.parametrize('bias', [True, False])
def test_winograd_conv_equals_direct(m, shape, chunk, bias):
    n, c, k, h, w = shape
    gen = torch.Generator().manual_seed(sum(shape) + m)
    x = torch.randn(n, c, h, w, generator=gen)
    weight = torch.randn(k, c, 3, 3, generator=gen) / (9 * c)**.5
    b = torch.randn(k, generator=gen) if bias else None
    ref = _direct64(x, weight, b)
    u = W.transform_weight(weight, m)
    out = W.winograd_conv2d([x], u, m, b, chunk_tiles=chunk)
    assert out.shape == ref.shape and out.dtype == torch.float32
    torch.testing.assert_close(out.double(), ref, atol=1e-5, rtol=0)
    # split input (no concatenation), ReLU, channels_last parts
    parts = [
        p.contiguous(memory_format=torch.channels_last)
        for p in torch.split(x, [c // 2, c - c // 2], dim=1)
    ]
    out = W.winograd_conv2d(parts, u, m, b, relu=True, chunk_tiles=chunk)
    torch.testing.assert_close(out.double(), ref.relu(), atol=1e-5, rtol=0)


def test_winograd_error_on_a_wide_conv():
    """512 channels, unit-variance input, weights of variance 1/fan_in: the
    error stays far below the deploy bound (F(4x4) measured 2e-5, the
    direct float32 conv 1.5e-6)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 512, 20, 20, generator=gen)
    weight = torch.randn(512, 512, 3, 3, generator=gen) / (9 * 512)**.5
    ref = _direct64(x, weight, None)
    for m in W.POINTS:
        out = W.winograd_conv2d([x], W.transform_weight(weight, m), m)
        assert (out.double() - ref).abs().max().item() < 5e-5, m


def _conv_module(c, k, **kwargs):
    m = ConvModule(c, k, 3, padding=1, norm_cfg=dict(type='BN'), **kwargs)
    gen = torch.Generator().manual_seed(c * k)
    with torch.no_grad():
        m.bn.running_mean.copy_(torch.randn(k, generator=gen))
        m.bn.running_var.copy_(torch.rand(k, generator=gen) + 0.5)
    return m.eval()


def test_winograd_module_picks_tile_by_size_and_matches():
    module = _conv_module(6, 5)
    fold_batchnorm(module)
    fast = W.WinogradConv2d(copy.deepcopy(module))
    assert fast.relu  # ConvModule's ReLU fused into the output
    assert [fast.tile_size(s, 40) for s in (4, 7, 8, 23, 24, 100)] == \
        [0, 0, 2, 2, 4, 4]
    gen = torch.Generator().manual_seed(0)
    for size in ((5, 6), (9, 30), (26, 25)):
        x = torch.randn(2, 6, *size, generator=gen)
        with torch.no_grad():
            torch.testing.assert_close(fast(x), module(x), atol=TOL, rtol=0)
    assert sorted(fast._transformed) == [2, 4]  # computed once per tile


def test_winograd_module_replaces_split_conv_and_rejects_others():
    module = _conv_module(12, 5)
    fold_batchnorm(module)
    split = SplitInputConvModule(module, [4, 8])
    fast = W.WinogradConv2d(split)
    gen = torch.Generator().manual_seed(0)
    parts = [
        torch.randn(2, 4, 30, 26, generator=gen),
        torch.randn(2, 8, 30, 26, generator=gen)
    ]
    with torch.no_grad():
        torch.testing.assert_close(fast(parts), split(parts), atol=TOL, rtol=0)
    with pytest.raises(ValueError, match='norm'):
        W.WinogradConv2d(_conv_module(4, 4))  # norm not folded
    strided = ConvModule(4, 4, 3, stride=2, padding=1, norm_cfg=None)
    with pytest.raises(ValueError, match='stride 1'):
        W.WinogradConv2d(strided)
    one = ConvModule(4, 4, 1, norm_cfg=None)
    with pytest.raises(ValueError, match='3x3'):
        W.WinogradConv2d(one)


def _spy_tiles(monkeypatch):
    """Record the tile size of every Winograd convolution call."""
    calls = []
    original = W.winograd_conv2d

    def spy(parts, weight, m, *args, **kwargs):
        calls.append(m)
        return original(parts, weight, m, *args, **kwargs)

    monkeypatch.setattr(W, 'winograd_conv2d', spy)
    return calls


@pytest.mark.parametrize('backbone', ['convnext', 'resnet'])
def test_fp32_deploy_takes_winograd_and_matches_original(
        backbone, monkeypatch):
    model = small_segmentor(backbone)
    # finest level 28x34 (F(4x4), 34 not a multiple of 4), then 14x17
    # (F(2x2), odd), 7x8 and 3x4 (direct)
    x = torch.randn(2, 3, 112, 136, generator=torch.Generator().manual_seed(0))
    ref = logits(model, x)
    assert ref.std() > 0.1
    deployed = deploy_segmentor(copy.deepcopy(model), precision='fp32')
    assert deployed._upernet_mm_deployed['winograd'] is True
    head = deployed.decode_head
    for module in [head.bottleneck, head.fpn_bottleneck, *head.fpn_convs]:
        assert isinstance(module, W.WinogradConv2d)
    calls = _spy_tiles(monkeypatch)
    out = logits(deployed, x)
    torch.testing.assert_close(out, ref, atol=TOL, rtol=0)
    # fpn_convs at 28x34 and 14x17, fpn_bottleneck at 28x34
    assert sorted(calls) == [2, 4, 4]


def test_fp32_deploy_winograd_through_test_step_and_slide():
    model = small_segmentor()
    model.test_cfg = ConfigDict(
        mode='slide', crop_size=(96, 96), stride=(64, 64))
    deployed = deploy_segmentor(copy.deepcopy(model))
    gen = torch.Generator().manual_seed(0)
    data = dict(inputs=[
        torch.randint(0, 256, (3, 120, 150), generator=gen, dtype=torch.uint8)
    ])
    data['data_samples'] = [
        SegDataSample(
            metainfo=dict(img_shape=(120, 150), ori_shape=(120, 150)))
    ]
    ref = model.test_step(copy.deepcopy(data))[0].seg_logits.data
    out = deployed.test_step(copy.deepcopy(data))[0].seg_logits.data
    torch.testing.assert_close(out, ref, atol=TOL, rtol=0)


def test_winograd_options():
    model = small_segmentor()
    bf16 = deploy_segmentor(copy.deepcopy(model), precision='bf16')
    assert bf16._upernet_mm_deployed['winograd'] is False
    assert not any(isinstance(m, W.WinogradConv2d) for m in bf16.modules())
    off = deploy_segmentor(copy.deepcopy(model), winograd=False, fuse=False)
    assert isinstance(off.decode_head.fpn_bottleneck, SplitInputConvModule)
    with pytest.raises(ValueError, match='needs fold_bn'):
        deploy_segmentor(copy.deepcopy(model), fold_bn=False, winograd=True)
    # compile: Inductor fuses by itself (its mkldnn lowering needs constant
    # weights), so fusion is off by default and refused explicitly
    compiled = deploy_segmentor(
        copy.deepcopy(model),
        precision='bf16',
        compile=True,
        compile_kwargs=dict(backend='eager'))
    assert compiled._upernet_mm_deployed['fuse'] is False
    with pytest.raises(ValueError, match='do not combine'):
        deploy_segmentor(copy.deepcopy(model), fuse=True, compile=True)


needs_onednn = pytest.mark.skipif(
    not onednn.available(), reason='PyTorch without oneDNN')
needs_native_bf16 = pytest.mark.skipif(
    not onednn.native_bf16(),
    reason='oneDNN has no fused bfloat16 kernels on a CPU without '
    'AVX512-BF16 or AMX')


@needs_onednn
@pytest.mark.parametrize('kwargs', [
    dict(kernel_size=3, padding=1),
    dict(kernel_size=1, padding=0, stride=2),
    dict(kernel_size=3, padding=2, dilation=2, groups=2),
])
@pytest.mark.parametrize('act', [True, False])
def test_fused_conv_act_equals_conv_module(kwargs, act):
    module = _conv_module_any(4, 6, act, **kwargs)
    fold_batchnorm(module)
    fused = onednn.FusedConvAct.from_conv_module(module)
    assert fused.attr == ('relu' if act else 'none')
    gen = torch.Generator().manual_seed(0)
    for x in (torch.randn(3, 4, 9, 7, generator=gen),
              torch.randn(1, 4, 16, 16, generator=gen).contiguous(
                  memory_format=torch.channels_last)):
        with torch.no_grad():
            torch.testing.assert_close(fused(x), module(x), atol=1e-5, rtol=0)


def _conv_module_any(c, k, act, **kwargs):
    m = ConvModule(
        c,
        k,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU') if act else None,
        **kwargs)
    gen = torch.Generator().manual_seed(c * k)
    with torch.no_grad():
        m.bn.running_mean.copy_(torch.randn(k, generator=gen))
        m.bn.running_var.copy_(torch.rand(k, generator=gen) + 0.5)
    return m.eval()


@needs_onednn
def test_fused_conv_act_rejects_other_modules():
    with pytest.raises(ValueError, match='norm folded'):
        onednn.FusedConvAct.from_conv_module(
            _conv_module_any(4, 4, True, kernel_size=1))
    gelu = ConvModule(4, 4, 1, norm_cfg=None, act_cfg=dict(type='GELU'))
    with pytest.raises(ValueError, match='ReLU or no'):
        onednn.FusedConvAct.from_conv_module(gelu)


@needs_onednn
def test_fused_convnext_blocks_match_and_are_taken():
    model = small_segmentor()
    backbone = copy.deepcopy(model.backbone)
    assert onednn.fuse_convnext_blocks(backbone) == sum(
        len(stage) for stage in model.backbone.stages)
    block = backbone.stages[0][0]
    assert isinstance(block.pointwise_conv1, onednn.FusedLinear)
    assert block.pointwise_conv1.attr == 'gelu'
    assert block.gamma is None  # folded into pointwise_conv2
    x = torch.randn(2, 3, 40, 56, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for a, b in zip(backbone(x), model.backbone(x)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@needs_onednn
@pytest.mark.parametrize(
    'precision',
    ['fp32', pytest.param('bf16', marks=needs_native_bf16)])
def test_deploy_fuses_by_default(precision):
    model = small_segmentor()
    deployed = deploy_segmentor(copy.deepcopy(model), precision=precision)
    assert deployed._upernet_mm_deployed['fuse'] is True
    head = deployed.decode_head
    assert isinstance(head.lateral_convs[0], onednn.FusedConvAct)
    assert isinstance(head.psp_modules[0][1], onednn.FusedConvAct)
    assert isinstance(head.conv_seg, onednn.FusedConvAct)
    if precision == 'bf16':  # no Winograd: the 3x3 ConvModules fuse too
        assert isinstance(head.fpn_convs[0], onednn.FusedConvAct)
        assert head.fpn_convs[0].weight.is_contiguous(
            memory_format=torch.channels_last)
    assert isinstance(deployed.backbone.stages[1][0].pointwise_conv1,
                      onednn.FusedLinear)
    plain = deploy_segmentor(
        copy.deepcopy(model), precision=precision, fuse=False)
    assert not any(
        isinstance(m, (onednn.FusedConvAct, onednn.FusedLinear))
        for m in plain.modules())


@needs_onednn
@pytest.mark.parametrize(
    'dtype',
    [torch.float32,
     pytest.param(torch.bfloat16, marks=needs_native_bf16)])
def test_fused_split_conv_equals_split_conv(dtype):
    module = _conv_module(12, 5)
    fold_batchnorm(module)
    split = SplitInputConvModule(module, [4, 4, 4]).to(dtype)
    fused = onednn.FusedSplitConv(split)
    gen = torch.Generator().manual_seed(0)
    parts = [
        torch.randn(2, 4, 11, 9, generator=gen).to(dtype) for _ in range(3)
    ]
    with torch.no_grad():
        ref = split(parts).float()
        out = fused(parts)
        assert out.dtype == dtype
        atol = 1e-5 if dtype == torch.float32 else 0.1
        torch.testing.assert_close(out.float(), ref, atol=atol, rtol=0)
        torch.testing.assert_close(
            fused(torch.cat(parts, 1)).float(), ref, atol=atol, rtol=0)
        assert (out >= 0).all()  # the ReLU


@needs_onednn
@needs_native_bf16
def test_bf16_deploy_fuses_the_split_bottleneck():
    deployed = deploy_segmentor(small_segmentor(), precision='bf16')
    assert isinstance(deployed.decode_head.fpn_bottleneck,
                      onednn.FusedSplitConv)


@needs_onednn
def test_fp32_deploy_without_winograd_fuses_the_split_bottleneck():
    model = small_segmentor()
    fp32 = deploy_segmentor(copy.deepcopy(model), winograd=False)
    assert isinstance(fp32.decode_head.fpn_bottleneck, onednn.FusedSplitConv)
    x = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(
        logits(fp32, x), logits(model, x), atol=TOL, rtol=0)
