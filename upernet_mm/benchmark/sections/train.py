"""Training throughput and peak memory of the quick-start config: training
steps with mmseg's heads and with ours in float32 (the optimizer of
``configs/upernet_convnext_fp32.py``), ours under bf16 autocast alone, and
ours on the quick start's fast path (bf16 autocast, fused AdamW,
``ChannelsLastHook``, ``DepthwiseFP32Hook``), from the same weights on the
same random batch."""
import copy
import os.path as osp
import time
from types import SimpleNamespace

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from upernet_mm.apis import build_segmentor
from upernet_mm.deploy.segmentor_logits import SegmentorLogits
from upernet_mm.engine.amp import configure_amp
from upernet_mm.engine.hooks import ChannelsLastHook, DepthwiseFP32Hook
from .. import candidates
from ..floor import count_macs
from ..settings import QUICK_START
from ..table import fmt, format_table
from ..timing import interleaved_times, median

# the quick start in float32: the optimizer settings of the float32 rows
QUICK_START_FP32 = osp.join(
    osp.dirname(QUICK_START), 'upernet_convnext_fp32.py')
FAST = 'upernet_mm fast path'
# name: (mmseg's heads, optimizer of the fast quick start, bf16 autocast,
# the quick start's hooks)
ROWS = {
    'mmseg': (True, False, False, False),
    'upernet_mm': (False, False, False, False),
    'upernet_mm bf16 autocast': (False, False, True, False),
    FAST: (False, True, True, True),
}
HOOKS = (ChannelsLastHook, DepthwiseFP32Hook)


def _optim_cfg(cfg, fast, bf16):
    """``optim_wrapper`` of the quick start (fast) or of its float32 form,
    with bf16 autocast as ``tools/train.py`` sets it up on a CPU."""
    if fast:
        optim = copy.deepcopy(cfg.optim_wrapper)
    else:
        optim = copy.deepcopy(Config.fromfile(QUICK_START_FP32).optim_wrapper)
        if bf16:
            optim.type = 'AmpOptimWrapper'
    wrapped = Config(dict(optim_wrapper=optim))
    # the bf16 rows measure bfloat16 autocast on every host
    configure_amp(wrapped, False, has_amp_device=False, native_bf16=True)
    return wrapped.optim_wrapper.to_dict()


def callables(settings):
    """Training steps of the quick-start config (rows of :data:`ROWS`), on
    the same random batch."""
    cfg = Config.fromfile(QUICK_START)
    model_cfg = cfg.model.to_dict()
    batch = settings.get('batch', cfg.train_dataloader.batch_size)
    crop = settings.get('crop', tuple(cfg.crop_size))
    num_classes = model_cfg['decode_head']['num_classes']
    torch.manual_seed(0)
    ours = build_segmentor(model_cfg)
    state = copy.deepcopy(ours.state_dict())
    gen = torch.Generator().manual_seed(3)
    images = torch.randint(
        0, 256, (batch, 3) + crop, generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, num_classes, (batch, 1) + crop, generator=gen)
    fns = {}
    for name, (mmseg, fast, bf16, hooks) in ROWS.items():
        model = ours if name == 'upernet_mm' else build_segmentor(
            candidates.with_mmseg_heads(model_cfg) if mmseg else model_cfg)
        model.load_state_dict(state, strict=True)
        model.train()
        with DefaultScope.overwrite_default_scope('upernet_mm'):
            optim = build_optim_wrapper(model, _optim_cfg(cfg, fast, bf16))
        if hooks:
            runner = SimpleNamespace(model=model, optim_wrapper=optim)
            for hook in HOOKS:
                hook().before_train(runner)

        def batch_data():
            samples = []
            for i in range(batch):
                sample = SegDataSample(
                    metainfo=dict(img_shape=crop, ori_shape=crop))
                sample.gt_sem_seg = PixelData(data=labels[i])
                samples.append(sample)
            return dict(inputs=list(images), data_samples=samples)

        def step(model=model, optim=optim):
            data = batch_data()
            for _ in range(settings['steps']):
                model.train_step(data, optim)

        # what step_parts needs, for the table of parts
        step.parts_args = (lambda model=model, optim=optim:
                           (model, optim, batch_data()))
        fns[name] = step
    return fns, batch, crop, ours


PARTS = ('data preprocessor', 'backbone forward', 'heads forward + losses',
         'heads backward', 'backbone backward', 'optimizer step')


def step_parts(model, optim, data):
    """Seconds of each part of one training step (:data:`PARTS`), in the
    optimizer wrapper's autocast; the heads run on detached copies of the
    features so that their backward and the backbone's are timed apart."""
    times = []
    clock = [time.perf_counter()]

    def lap():
        now = time.perf_counter()
        times.append(now - clock[0])
        clock[0] = now

    with optim.optim_context(model):
        data = model.data_preprocessor(data, True)
        lap()
        feats = model.extract_feat(data['inputs'])
        lap()
        leaves = [f.detach().requires_grad_() for f in feats]
        losses = model._decode_head_forward_train(leaves, data['data_samples'])
        losses.update(
            model._auxiliary_head_forward_train(leaves, data['data_samples']))
        loss, _ = model.parse_losses(losses)
        lap()
    loss.backward()
    lap()
    used = [(f, leaf.grad) for f, leaf in zip(feats, leaves)
            if leaf.grad is not None]
    torch.autograd.backward([f for f, _ in used], [g for _, g in used])
    lap()
    optim.step()
    optim.zero_grad()
    lap()
    return times


def parts_table(fns, reps):
    """Median milliseconds per part (rows) of each candidate (columns),
    interleaved, after one untimed step each."""
    names = [n for n in fns if n != 'mmseg']
    runs = {n: [] for n in names}
    for r in range(reps + 1):
        for name in names[r % len(names):] + names[:r % len(names)]:
            model, optim, data = fns[name].parts_args()
            times = step_parts(model, optim, data)
            if r:
                runs[name].append(times)
    rows = []
    for i, part in enumerate(PARTS + ('sum', )):
        row = [part]
        for name in names:
            values = [sum(t) if part == 'sum' else t[i] for t in runs[name]]
            row.append(fmt(1e3 * median(values), '.1f'))
        rows.append(row)
    return format_table(['part (ms)'] + names, rows)


def run(settings, opts, conv_peak):
    if not osp.isfile(QUICK_START):
        return 'Training throughput', f'skipped: {QUICK_START} not found', {}
    fns, batch, crop, ours = callables(settings)
    x = torch.zeros(1, 3, *crop)
    macs = count_macs(SegmentorLogits(ours.eval()).eval(), (x, )) * batch
    ours.train()
    times = interleaved_times(fns, opts.warmup, 2 * opts.reps)
    mem = opts.memory('train')
    ref = median(times['mmseg'])
    rows = []
    for n in fns:
        t = median(times[n])
        precision = 'bf16' if ROWS[n][2] else 'fp32'
        floor = 3 * macs * settings['steps'] / conv_peak[precision]
        rows.append([
            n, precision,
            fmt(1e3 * t / settings['steps'], '.1f'),
            fmt(batch * settings['steps'] / t, '.1f'),
            fmt(ref / t, '.3f'),
            fmt(floor / t, '.2f'),
            fmt(mem.get(n, 0) / 2**20, '.0f') if mem else None
        ])
    title = (f'Training step of {osp.relpath(QUICK_START)}: batch {batch} '
             f'at {crop[0]}x{crop[1]}, {settings["steps"]} steps per timing')
    table = format_table([
        'heads', 'autocast', 'median ms/step', 'images/s', 'speed vs mmseg',
        'of floor', 'peak MB'
    ], rows)
    table += ('\n\nWhere the time of one step goes (median of '
              f'{2 * opts.reps}):\n' + parts_table(fns, 2 * opts.reps))
    return title, table, dict(times=times, memory=mem, batch=batch)
