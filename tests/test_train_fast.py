"""The fast training path (docs/training_and_distributed.md, "Fast training
on CPU"): ChannelsLastHook, DepthwiseFP32Hook, the quick-start configs that
use them, and a few training iterations with them. No timings."""
import copy
import json
import math
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from helpers import ROOT, run_tool
from helpers.train_fast import (QUICK_START, QUICK_START_FP32,
                                tiny_quick_start_config)
from upernet_mm.apis import build_segmentor
from upernet_mm.engine.amp import configure_amp, cpu_has_native_bf16
from upernet_mm.engine.hooks import ChannelsLastHook, DepthwiseFP32Hook
from upernet_mm.engine.hooks.depthwise_fp32_hook import (AutocastFP32Conv2d,
                                                         depthwise_to_fp32)
from upernet_mm.engine.runner_setup import build_runner

CL = torch.channels_last


def _record(seen, key, value_of):
    """A forward (pre-)hook that stores ``value_of(input, output)`` once
    under ``key`` and returns None (so it changes nothing)."""

    def hook(module, args, out=None):
        seen.setdefault(key, value_of(args, out))

    return hook


def _quick_start_model():
    torch.manual_seed(0)
    cfg = Config.fromfile(QUICK_START)
    return build_segmentor(cfg.model.to_dict())


def _is_cl(t):
    """NHWC and not NCHW (a tensor with C == 1 or H == W == 1 is both)."""
    return t.dim() == 4 and t.is_contiguous(memory_format=CL) \
        and not t.is_contiguous()


def _has_layout(t):
    """Whether NCHW and NHWC strides of ``t`` differ."""
    return t.dim() == 4 and t.shape[1] > 1 and t.shape[2] * t.shape[3] > 1


def test_channels_last_hook_converts_model_optimizer_state_and_input():
    model = _quick_start_model().train()
    params = list(model.parameters())
    optim = OptimWrapper(torch.optim.AdamW(params, lr=1e-3))
    # an optimizer state as a resumed run has it: NCHW moments
    model(torch.randn(2, 3, 64, 64), mode='tensor').mean().backward()
    optim.step()
    runner = SimpleNamespace(model=model, optim_wrapper=optim)
    ChannelsLastHook().before_train(runner)
    # the same parameter objects (the optimizer keeps them), now NHWC
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    four_d = [p for p in params if _has_layout(p)]
    assert four_d and all(_is_cl(p) for p in four_d)
    moments = [
        s['exp_avg'] for p, s in optim.optimizer.state.items()
        if _has_layout(p)
    ]
    assert moments and all(_is_cl(m) for m in moments)
    seen = {}
    model.backbone.downsample_layers[0].register_forward_pre_hook(
        _record(seen, 'stem_in_cl', lambda a, out: _is_cl(a[0])))
    model(torch.randn(2, 3, 64, 64), mode='tensor')
    assert seen == dict(stem_in_cl=True)


def test_channels_last_hook_changes_no_values():
    model = _quick_start_model().eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model(x, mode='tensor')
        ChannelsLastHook(inputs=True).before_train(
            SimpleNamespace(model=model, optim_wrapper=None))
        after = model(x, mode='tensor')
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-4)
    with pytest.raises(TypeError, match='inputs'):
        ChannelsLastHook(inputs='yes')


def test_depthwise_fp32_hook_keeps_depthwise_convs_float32_under_autocast():
    model = _quick_start_model().eval()
    keys = list(model.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model(x, mode='tensor')
    DepthwiseFP32Hook().before_train(
        SimpleNamespace(model=model, optim_wrapper=None))
    dws = [m for m in model.modules() if isinstance(m, AutocastFP32Conv2d)]
    # ConvNeXt-atto: 2 + 2 + 6 + 2 blocks, one depthwise conv each; no
    # other conv changed
    assert len(dws) == 12
    assert all(m.groups == m.in_channels for m in dws)
    assert list(model.state_dict()) == keys
    with torch.no_grad():
        torch.testing.assert_close(
            model(x, mode='tensor'), before, rtol=0, atol=0)
    dtypes = {}
    dws[0].register_forward_hook(
        _record(dtypes, 'dw', lambda a, out: out.dtype))
    model.backbone.stages[0][0].pointwise_conv1.register_forward_hook(
        _record(dtypes, 'pw', lambda a, out: out.dtype))
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        model(x, mode='tensor')
    assert dtypes == dict(dw=torch.float32, pw=torch.bfloat16)
    # nothing else is depthwise, and a second call finds nothing to change
    assert depthwise_to_fp32(model) == 0
    assert depthwise_to_fp32(nn.Conv2d(8, 8, 3, groups=2)) == 0


def test_quick_start_config_is_the_fast_path_and_fp32_child_is_plain():
    fast = Config.fromfile(QUICK_START)
    assert fast.optim_wrapper.type == 'AmpOptimWrapper'
    assert fast.optim_wrapper.optimizer.fused is True
    assert [h['type'] for h in fast.custom_hooks] == \
        ['ChannelsLastHook', 'DepthwiseFP32Hook']
    # on a CPU tools/train.py makes it bfloat16 autocast
    cpu = copy.deepcopy(fast)
    assert configure_amp(
        cpu, False, has_amp_device=False, native_bf16=True) == \
        'upernet_mm.BF16AmpOptimWrapper'
    fp32 = Config.fromfile(QUICK_START_FP32)
    assert fp32.optim_wrapper.type == 'OptimWrapper'
    assert fp32.optim_wrapper.optimizer.fused is None  # torch's default
    assert fp32.custom_hooks == []
    # everything else is the quick start's
    for key in ('model', 'train_dataloader', 'val_dataloader', 'train_cfg',
                'param_scheduler', 'default_hooks', 'randomness'):
        assert fp32[key] == fast[key], key
    assert fp32.optim_wrapper.paramwise_cfg == fast.optim_wrapper.paramwise_cfg
    # configs whose documented results were measured in float32 stay there
    for rel in ('ablations/upernet_convnext-atto_1xb4-100iter_'
                'syntheticfar-192x192.py',
                'unified_parsing/upernet_convnext-atto_1xb8-400iter_'
                'unified-parsing-scenes-96x96.py'):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', rel))
        assert cfg.optim_wrapper.type == 'OptimWrapper', rel
        assert not cfg.get('custom_hooks'), rel


def _train(path, tmp_path):
    """Train the tiny quick start of ``path`` in-process as tools/train.py
    does; record the memory format the stem sees and the dtypes of a
    depthwise conv and the classifier."""
    cfg = tiny_quick_start_config(path, tmp_path / 'data', tmp_path / 'work')
    # bfloat16 autocast as on a CPU with bfloat16 instructions, on any host
    configure_amp(cfg, False, native_bf16=True)
    runner = build_runner(cfg)
    model = runner.model
    seen = {}
    model.backbone.downsample_layers[0].register_forward_pre_hook(
        _record(seen, 'stem_in_cl', lambda a, out: _is_cl(a[0])))
    model.backbone.stages[0][0].depthwise_conv.register_forward_hook(
        _record(seen, 'dw', lambda a, out: out.dtype))
    model.decode_head.conv_seg.register_forward_hook(
        _record(seen, 'cls', lambda a, out: out.dtype))
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    weights = model.decode_head.fpn_bottleneck.conv.weight
    return seen, loss, weights, runner


def test_fast_quick_start_trains_in_bf16_channels_last(tmp_path):
    seen, loss, weights, runner = _train(QUICK_START, tmp_path)
    assert math.isfinite(loss)
    assert seen == dict(stem_in_cl=True, dw=torch.float32, cls=torch.bfloat16)
    assert _is_cl(weights) and weights.dtype == torch.float32
    assert type(runner.optim_wrapper).__name__ == 'BF16AmpOptimWrapper'
    assert runner.optim_wrapper.optimizer.defaults['fused'] is True


def test_fp32_quick_start_trains_in_fp32_nchw(tmp_path):
    seen, loss, weights, runner = _train(QUICK_START_FP32, tmp_path)
    assert math.isfinite(loss)
    assert seen == dict(stem_in_cl=False, dw=torch.float32, cls=torch.float32)
    assert weights.is_contiguous()
    assert type(runner.optim_wrapper).__name__ == 'OptimWrapper'


@pytest.mark.slow
def test_train_tool_runs_the_fast_quick_start(tmp_path):
    data = tmp_path / 'data'
    options = [
        'train_cfg.max_iters=2',
        'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.data_root={data}',
        f'val_dataloader.dataset.data_root={data}',
        'val_dataloader.dataset.indices=2',
    ]
    out = run_tool(
        'train.py',
        QUICK_START,
        '--work-dir',
        tmp_path / 'work',
        '--cfg-options',
        *options,
        cwd=str(tmp_path))
    log = out.stdout + out.stderr
    # float32 on a CPU without bfloat16 instructions (engine/amp.py)
    assert ('bfloat16 autocast'
            if cpu_has_native_bf16() else 'training in float32') in log
    assert 'DepthwiseFP32Hook: 12 depthwise convolutions' in log
    (scalars, ) = (tmp_path / 'work').glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
    assert any('mIoU' in r for r in records)


def test_benchmark_train_section_rows_are_set_up_as_named():
    from upernet_mm.benchmark.sections import train
    from upernet_mm.benchmark.settings import QUICK
    fns, batch, crop, _ = train.callables(QUICK['train'])
    assert list(fns) == [
        'mmseg', 'upernet_mm', 'upernet_mm bf16 autocast', train.FAST
    ]
    setups = {}
    for name, fn in fns.items():
        fn()  # one training step each
        model, optim = fn.__defaults__
        setups[name] = (type(model.decode_head).__module__.split('.')[0],
                        type(optim).__name__,
                        optim.optimizer.defaults['fused'],
                        _is_cl(model.decode_head.fpn_bottleneck.conv.weight),
                        any(
                            isinstance(m, AutocastFP32Conv2d)
                            for m in model.modules()))
    assert setups == {
        'mmseg': ('mmseg', 'OptimWrapper', None, False, False),
        'upernet_mm': ('upernet_mm', 'OptimWrapper', None, False, False),
        'upernet_mm bf16 autocast':
        ('upernet_mm', 'BF16AmpOptimWrapper', None, False, False),
        train.FAST: ('upernet_mm', 'BF16AmpOptimWrapper', True, True, True),
    }


@pytest.mark.parametrize('parent', [
    'upernet_r50_4xb4-160k_ade20k-512x512.py',
    'upernet_swin-tiny-patch4-window7_8xb2-160k_ade20k-512x512.py'
])
def test_amp_recipe_children_change_only_precision_and_layout(parent):
    child = parent.replace('-160k_', '-amp-160k_')
    base = Config.fromfile(osp.join(ROOT, 'configs', parent))
    cfg = Config.fromfile(osp.join(ROOT, 'configs', child))
    assert base.optim_wrapper.type == 'OptimWrapper'
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.custom_hooks == [dict(type='ChannelsLastHook')]
    assert dict(cfg.optim_wrapper, type='OptimWrapper') == base.optim_wrapper
    for key in ('model', 'train_dataloader', 'param_scheduler', 'train_cfg'):
        assert cfg[key] == base[key], key
    # on a CPU, tools/train.py makes it bfloat16 autocast
    assert configure_amp(
        cfg, False, has_amp_device=False, native_bf16=True) == \
        'upernet_mm.BF16AmpOptimWrapper'


def test_convnext_recipe_uses_both_hooks_under_amp():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs',
                 'upernet_convnext-tiny_8xb2-amp-160k_ade20k-512x512.py'))
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert [h['type'] for h in cfg.custom_hooks] == \
        ['ChannelsLastHook', 'DepthwiseFP32Hook']
