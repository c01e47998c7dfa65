"""Benchmark upernet_mm against mmseg and transformers on this machine.

Every comparison runs in one process with identical weights and inputs,
interleaved repetitions after warm-up, and prints medians and ratios (it
never asserts timings). Peak memory is measured in a worker process (see
``upernet_mm/benchmark/memory.py`` for what it counts).

Sections:
  head   decode head alone (ConvNeXt-T widths, 512x512 image features,
         channels 512): eval forward and train forward+backward, time and
         peak memory, upernet_mm vs mmseg vs transformers;
  model  UPerNet ConvNeXt-T at 512x512, eval: upernet_mm, its deploy form
         (fp32 and bf16), mmseg, transformers, onnxruntime on our export;
  layers where the time of the whole model goes, per layer: mmseg fp32
         against our deploy form in fp32 and bf16;
  train  training throughput and peak memory of the quick-start config,
         our heads vs mmseg's (and ours with bf16 autocast);
  slide  sliding-window inference of a 2048x1024 image, sequential vs
         batched crops;
  accuracy  (with --checkpoint) a trained model on its validation split:
         mIoU of the original fp32 model and of the deploy forms, and the
         share of pixels given the same class.
Each time is also given as a fraction of its FLOP floor: MACs divided by
the throughput of a plain large 3x3 convolution measured here in the same
precision (training: 3x the forward MACs).

Example:
    python tools/analysis_tools/benchmark.py                 # everything (~15 min, 2 cores)
    python tools/analysis_tools/benchmark.py --quick         # small sizes, for tests
    python tools/analysis_tools/benchmark.py --sections head model --reps 7
"""
import argparse
import copy
import json
import os.path as osp
import platform
import sys
import tempfile
import time

import torch
from mmengine.config import ConfigDict

from upernet_mm.benchmark import candidates as C
from upernet_mm.benchmark.floor import (conv_throughput, count_macs,
                                        macs_by_module)
from upernet_mm.benchmark.layer_profile import module_times, uper_layers
from upernet_mm.benchmark.memory import can_measure, measure_all, run_worker
from upernet_mm.benchmark.table import fmt, format_table
from upernet_mm.benchmark.timing import interleaved_times, median

SECTIONS = ('head', 'model', 'layers', 'train', 'slide', 'accuracy')
QUICK_START = osp.join(C.REPO_CONFIGS, 'upernet_convnext.py')

FULL = dict(
    head=dict(image=(512, 512), channels=512, classes=150, batch=2),
    model=dict(arch='tiny', image=(512, 512), channels=512, classes=150),
    layers=dict(arch='tiny', image=(512, 512), channels=512, classes=150),
    accuracy=dict(),
    train=dict(steps=3),
    slide=dict(
        arch='tiny', image=(1024, 2048), crop=(512, 512), stride=(341, 341),
        batch_size=6, reps=2),
    conv=dict(channels=512, size=128),
)
QUICK = dict(
    head=dict(image=(64, 64), channels=32, classes=5, batch=2),
    model=dict(arch='atto', image=(64, 64), channels=32, classes=5),
    layers=dict(arch='atto', image=(64, 64), channels=32, classes=5),
    accuracy=dict(),
    train=dict(steps=1, batch=2, crop=(64, 64)),
    slide=dict(
        arch='atto', image=(96, 128), crop=(64, 64), stride=(48, 48),
        batch_size=3, reps=1),
    conv=dict(channels=64, size=32),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--quick', action='store_true', help='small sizes, a few seconds')
    parser.add_argument(
        '--sections', nargs='+', choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument(
        '--reps', type=int, default=None,
        help='timed interleaved repetitions (default 5, --quick 1)')
    parser.add_argument(
        '--warmup', type=int, default=1, help='untimed rounds first')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--no-memory', action='store_true', help='skip peak memory')
    parser.add_argument(
        '--no-onnx', action='store_true', help='skip onnxruntime')
    parser.add_argument(
        '--compile', action='store_true',
        help='model section: also our deploy form under torch.compile '
        '(bf16, Inductor with freezing; compiling takes minutes)')
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument(
        '--checkpoint',
        help='trained checkpoint for the accuracy section (which runs only '
        'with it)')
    parser.add_argument(
        '--config', default=QUICK_START,
        help='config of --checkpoint (default: the quick start)')
    # internal: measure the peak memory of one section in this process
    parser.add_argument('--memory-worker', choices=SECTIONS,
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ----------------------------------------------------------------- head


def head_callables(s):
    """Eval and train callables of the three heads on the same input."""
    cfg = C.head_cfg(s['channels'], s['classes'])
    heads = C.build_heads(cfg)
    feats = C.features(s['batch'], s['image'])
    gen = torch.Generator().manual_seed(5)
    out_shape = (s['batch'], s['classes']) + tuple(feats[0].shape[2:])
    grad = torch.randn(out_shape, generator=gen)
    leaves = {n: [f.clone().requires_grad_() for f in feats] for n in heads}

    def eval_fn(head):
        def run():
            head.eval()
            with torch.no_grad():
                return head(feats)
        return run

    def train_fn(head, xs):
        def run():
            head.train()
            for t in list(head.parameters()) + xs:
                t.grad = None
            head(xs).backward(grad)
        return run

    evals = {n: eval_fn(h) for n, h in heads.items()}
    trains = {n: train_fn(h, leaves[n]) for n, h in heads.items()}
    return heads, feats, evals, trains


def run_head(s, args, tput):
    heads, feats, evals, trains = head_callables(s)
    outs = {n: fn() for n, fn in evals.items()}
    diffs = {n: (o - outs['upernet_mm']).abs().max().item()
             for n, o in outs.items()}
    macs = count_macs(heads['upernet_mm'].eval(), (feats, ))
    t_eval = interleaved_times(evals, args.warmup, args.reps)
    t_train = interleaved_times(trains, args.warmup, args.reps)
    mem = memory(args, 'head')
    rows = []
    for mode, times, k in (('eval', t_eval, 1), ('train', t_train, 3)):
        ref = median(times['mmseg'])
        floor = k * macs / tput['fp32']
        for n in heads:
            t = median(times[n])
            rows.append([
                mode, n, fmt(t * 1e3, '.1f'), fmt(ref / t, '.3f'),
                fmt(floor / t, '.2f'),
                fmt(mem.get(f'{mode}/{n}', 0) / 2**20, '.0f') if mem else
                None, fmt(diffs[n], '.1e') if mode == 'eval' else None
            ])
    title = (f'Decode head alone: batch {s["batch"]}, features of a '
             f'{s["image"][0]}x{s["image"][1]} image, channels '
             f'{s["channels"]}, {macs / 1e9:.2f} GMAC forward')
    table = format_table([
        'mode', 'implementation', 'median ms', 'mmseg/this',
        'of fp32 floor', 'peak MB', 'max |diff|'
    ], rows)
    return title, table, dict(macs=macs, eval=t_eval, train=t_train,
                              memory=mem, max_abs_diff=diffs)


# ---------------------------------------------------------------- model


def model_candidates(s, with_onnx, tmpdir, with_compile=False):
    """Eval callables of the whole model, with the same input."""
    from upernet_mm.deploy import deploy_segmentor
    model_cfg = C.convnext_model_cfg(s['arch'], s['channels'], s['classes'])
    models = C.build_segmentors(model_cfg)
    ours = models['upernet_mm']
    pre = ours.data_preprocessor
    h, w = s['image']
    gen = torch.Generator().manual_seed(7)
    image = torch.rand(1, 3, h, w, generator=gen) * 255  # BGR, 0-255
    x = (image.flip(1) - pre.mean) / pre.std
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))]
    fns = {}

    def mm_fn(model):
        def run():
            with torch.no_grad():
                return model.encode_decode(x, metas)
        return run

    fns['upernet_mm'] = mm_fn(ours)
    for precision in ('fp32', 'bf16'):
        deployed = deploy_segmentor(copy.deepcopy(ours), precision=precision)
        fns[f'upernet_mm deploy {precision}'] = mm_fn(deployed)
    notes = []
    if with_compile:
        compiled = deploy_segmentor(copy.deepcopy(ours), precision='bf16',
                                    compile=True)
        start = time.perf_counter()
        mm_fn(compiled)()
        notes.append('upernet_mm deploy bf16 compiled: first call '
                     f'(compilation) {time.perf_counter() - start:.0f} s')
        fns['upernet_mm deploy bf16 compiled'] = mm_fn(compiled)
    fns['mmseg'] = mm_fn(models['mmseg'])
    hf = C.build_transformers(model_cfg, ours.state_dict())

    def hf_fn():
        with torch.no_grad():
            return hf(pixel_values=x).logits

    fns['transformers'] = hf_fn
    if with_onnx:
        try:
            import onnxruntime as ort

            from upernet_mm.deploy.onnx_export import export_onnx
            path = export_onnx(ours, osp.join(tmpdir, 'model.onnx'),
                               example_size=s['image'])
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = torch.get_num_threads()
            opts.inter_op_num_threads = 1
            sess = ort.InferenceSession(
                path, opts, providers=['CPUExecutionProvider'])
            feed = {'image': image.numpy()}

            def ort_fn():
                return torch.from_numpy(sess.run(None, feed)[0])

            fns['onnxruntime'] = ort_fn
        except ImportError as e:
            notes.append(f'onnxruntime skipped: {e} (pip install onnx '
                         'onnxruntime onnxscript)')
    return ours, x, fns, notes


def run_model(s, args, tput, tmpdir):
    ours, x, fns, notes = model_candidates(s, not args.no_onnx, tmpdir,
                                           args.compile)
    outs = {n: fn().float() for n, fn in fns.items()}
    ref_out = outs['upernet_mm']
    ref_cls = ref_out.argmax(1)
    from upernet_mm.deploy.onnx_export import SegmentorLogits
    macs = count_macs(SegmentorLogits(ours).eval(), (x, ))
    times = interleaved_times(fns, args.warmup, args.reps)
    ref = median(times['mmseg'])
    rows = []
    for n in fns:
        t = median(times[n])
        precision = 'bf16' if 'bf16' in n else 'fp32'
        floor = macs / tput[precision]
        agree = (outs[n].argmax(1) == ref_cls).float().mean().item()
        rows.append([
            n, precision, fmt(t * 1e3, '.0f'), fmt(ref / t, '.3f'),
            fmt(floor / t, '.2f'), fmt((outs[n] - ref_out).abs().max().item(),
                                       '.1e'), fmt(100 * agree, '.2f')
        ])
    h, w = s['image']
    title = (f'Whole UPerNet ConvNeXt-{s["arch"]} at {h}x{w}, eval, batch 1 '
             f'({macs / 1e9:.1f} GMAC)')
    table = format_table([
        'implementation', 'precision', 'median ms', 'mmseg/this',
        'of floor', 'max |diff|', 'same class %'
    ], rows)
    if notes:
        table += '\n' + '\n'.join(notes)
    return title, table, dict(macs=macs, times=times)


# --------------------------------------------------------------- layers


def run_layers(s, args, tput):
    from upernet_mm.deploy import deploy_segmentor
    from upernet_mm.deploy.onnx_export import SegmentorLogits
    model_cfg = C.convnext_model_cfg(s['arch'], s['channels'], s['classes'])
    models = C.build_segmentors(model_cfg)
    ours = models['upernet_mm']
    h, w = s['image']
    x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(7))
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))]
    macs = macs_by_module(SegmentorLogits(ours).eval(), (x, ))
    variants = {
        'mmseg fp32': models['mmseg'],
        'deploy fp32': deploy_segmentor(copy.deepcopy(ours), 'fp32'),
        'deploy bf16': deploy_segmentor(copy.deepcopy(ours), 'bf16'),
    }
    names = uper_layers(ours)
    times = {}
    for label, model in variants.items():
        def run(model=model):
            with torch.no_grad():
                model.encode_decode(x, metas)
        run()  # warm-up
        times[label] = module_times(model, names, run, reps=args.reps)
    rows = []
    labels = list(variants)
    for name in names + ['other', 'total']:
        if name == 'other':  # resizes, concatenations, final upsampling
            ts = [times[v]['total'] - sum(times[v][n] for n in names)
                  for v in labels]
            gmac = None
        else:
            ts = [times[v][name] for v in labels]
            gmac = macs.get(name, 0) / 1e9 if name != 'total' else \
                macs[''] / 1e9
        bf16_rate = gmac / ts[2] if gmac and ts[2] > 0 else None
        rows.append([name, fmt(gmac, '.2f')] +
                    [fmt(t * 1e3, '.0f') for t in ts] + [
                        fmt(bf16_rate, '.0f'),
                        fmt(ts[0] / ts[2] if ts[2] > 0 else None, '.2f')
                    ])
    title = (f'Per layer, ConvNeXt-{s["arch"]} UPerNet at {h}x{w} (median '
             f'of {args.reps}; conv peak fp32 {tput["fp32"] / 1e9:.0f}, '
             f'bf16 {tput["bf16"] / 1e9:.0f} GMAC/s)')
    table = format_table(['layer', 'GMAC'] + [f'{v} ms' for v in labels] +
                         ['bf16 GMAC/s', 'mmseg/bf16'], rows)
    return title, table, dict(times=times)


# ---------------------------------------------------------------- train


def train_callables(s):
    """Training steps of the quick-start config with our heads, mmseg's
    heads, and ours under bf16 autocast, on the same random batch."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from upernet_mm.apis import build_segmentor
    cfg = Config.fromfile(QUICK_START)
    model_cfg = cfg.model.to_dict()
    batch = s.get('batch', cfg.train_dataloader.batch_size)
    crop = s.get('crop', tuple(cfg.crop_size))
    num_classes = model_cfg['decode_head']['num_classes']
    torch.manual_seed(0)
    ours = build_segmentor(model_cfg)
    state = copy.deepcopy(ours.state_dict())
    models = dict(upernet_mm=ours)
    models['mmseg'] = build_segmentor(C.with_mmseg_heads(model_cfg))
    models['upernet_mm bf16 autocast'] = build_segmentor(model_cfg)
    gen = torch.Generator().manual_seed(3)
    images = torch.randint(0, 256, (batch, 3) + crop, generator=gen,
                           dtype=torch.uint8)
    labels = torch.randint(0, num_classes, (batch, 1) + crop, generator=gen)
    fns = {}
    for name, model in models.items():
        model.load_state_dict(state, strict=True)
        model.train()
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        if 'bf16' in name:
            optim_cfg['type'] = 'upernet_mm.BF16AmpOptimWrapper'
        with DefaultScope.overwrite_default_scope('upernet_mm'):
            optim = build_optim_wrapper(model, optim_cfg)

        def step(model=model, optim=optim):
            samples = []
            for i in range(batch):
                sample = SegDataSample(
                    metainfo=dict(img_shape=crop, ori_shape=crop))
                sample.gt_sem_seg = PixelData(data=labels[i])
                samples.append(sample)
            data = dict(inputs=list(images), data_samples=samples)
            for _ in range(s['steps']):
                model.train_step(data, optim)

        fns[name] = step
    return fns, batch, crop, ours


def run_train(s, args, tput):
    if not osp.isfile(QUICK_START):
        return 'Training throughput', f'skipped: {QUICK_START} not found', {}
    fns, batch, crop, ours = train_callables(s)
    x = torch.zeros(1, 3, *crop)
    from upernet_mm.deploy.onnx_export import SegmentorLogits
    macs = count_macs(SegmentorLogits(ours.eval()).eval(), (x, )) * batch
    ours.train()
    times = interleaved_times(fns, args.warmup, 2 * args.reps)
    mem = memory(args, 'train')
    ref = median(times['mmseg'])
    rows = []
    for n in fns:
        t = median(times[n])
        precision = 'bf16' if 'bf16' in n else 'fp32'
        floor = 3 * macs * s['steps'] / tput[precision]
        rows.append([
            n, fmt(batch * s['steps'] / t, '.1f'), fmt(ref / t, '.3f'),
            fmt(floor / t, '.2f'),
            fmt(mem.get(n, 0) / 2**20, '.0f') if mem else None
        ])
    title = (f'Training step of {osp.relpath(QUICK_START)}: batch {batch} '
             f'at {crop[0]}x{crop[1]}, {s["steps"]} steps per timing')
    table = format_table(
        ['heads', 'images/s', 'speed vs mmseg', 'of floor', 'peak MB'], rows)
    return title, table, dict(times=times, memory=mem, batch=batch)


# ---------------------------------------------------------------- slide


def batched_slide_available() -> str:
    """'' if the segmentor in our scope takes ``test_cfg.batch_size``, else
    the reason."""
    try:
        from upernet_mm.models.segmentors import check_test_cfg
    except ImportError as e:
        return f'upernet_mm has no batched slide mode ({e})'
    try:
        check_test_cfg(
            dict(mode='slide', crop_size=(8, 8), stride=(4, 4),
                 batch_size=2))
    except ValueError as e:
        return f'test_cfg.batch_size is not accepted: {e}'
    return ''


def run_slide(s, args, tput):
    reason = batched_slide_available()
    if reason:
        return 'Sliding-window inference', f'skipped: {reason}', {}
    model_cfg = C.convnext_model_cfg(s['arch'])
    from upernet_mm.apis import build_segmentor
    torch.manual_seed(0)
    model = C.randomize(build_segmentor(model_cfg)).eval()
    h, w = s['image']
    gen = torch.Generator().manual_seed(9)
    x = torch.randn(1, 3, h, w, generator=gen)
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))]
    base = dict(mode='slide', crop_size=s['crop'], stride=s['stride'])
    modes = {
        'sequential (mmseg slide)': dict(base),
        f'batched, batch_size={s["batch_size"]}': dict(
            base, batch_size=s['batch_size'])
    }

    def fn(test_cfg):
        def run():
            model.test_cfg = ConfigDict(test_cfg)
            with torch.no_grad():
                return model.inference(x, copy.deepcopy(metas))
        return run

    fns = {n: fn(c) for n, c in modes.items()}
    outs = {n: f() for n, f in fns.items()}
    first = next(iter(outs.values()))
    times = interleaved_times(fns, 0, s['reps'] if args.reps_default
                              else args.reps)
    ref = median(times[next(iter(fns))])
    crops = _num_crops((h, w), s['crop'], s['stride'])
    rows = [[
        n, fmt(median(t), '.2f'), fmt(ref / median(t), '.3f'),
        fmt((outs[n] - first).abs().max().item(), '.1e')
    ] for n, t in times.items()]
    title = (f'Sliding window on a {w}x{h} image (ConvNeXt-{s["arch"]}, '
             f'crop {s["crop"][0]}, stride {s["stride"][0]}, {crops} crops, '
             'fp32)')
    table = format_table(['mode', 'median s', 'speed-up', 'max |diff|'],
                         rows)
    return title, table, dict(times=times)


def _num_crops(size, crop, stride):
    n = 1
    for dim, c, st in zip(size, crop, stride):
        n *= max(dim - c + st - 1, 0) // st + 1
    return n


# ------------------------------------------------------------- accuracy


def run_accuracy(s, args, tput):
    """fp32 original vs deploy forms on the config's validation split."""
    if not args.checkpoint:
        return 'Accuracy of the deploy forms', 'skipped: no --checkpoint', {}
    import importlib.util

    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from upernet_mm.deploy import deploy_segmentor
    from upernet_mm.registry import METRICS
    spec = importlib.util.spec_from_file_location(
        'export_onnx', osp.join(osp.dirname(osp.abspath(__file__)),
                                'export_onnx.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    model = tool.load_model(args.config, args.checkpoint)
    cfg = Config.fromfile(args.config)
    loader_cfg = copy.deepcopy(cfg.val_dataloader)
    loader_cfg['num_workers'] = 0
    loader_cfg['persistent_workers'] = False
    with DefaultScope.overwrite_default_scope('upernet_mm'):
        loader = Runner.build_dataloader(loader_cfg)
        variants = {'fp32 (original)': model}
        for precision in ('fp32', 'bf16'):
            variants[f'deploy {precision}'] = deploy_segmentor(
                copy.deepcopy(model), precision=precision)
        metrics = {}
        for name in variants:
            metric = METRICS.build(dict(type='IoUMetric',
                                        iou_metrics=['mIoU']))
            metric.dataset_meta = loader.dataset.metainfo
            metrics[name] = metric
    same = {n: 0 for n in variants}
    total = 0
    for data in loader:
        preds = {}
        with torch.no_grad():
            for name, m in variants.items():
                out = m.test_step(copy.deepcopy(data))
                metrics[name].process(data, [o.to_dict() for o in out])
                preds[name] = torch.stack(
                    [o.pred_sem_seg.data for o in out])
        ref = preds['fp32 (original)']
        total += ref.numel()
        for name in variants:
            same[name] += (preds[name] == ref).sum().item()
    n = len(loader.dataset)
    rows = []
    results = {}
    for name, metric in metrics.items():
        miou = metric.compute_metrics(metric.results)['mIoU']
        results[name] = dict(mIoU=miou, same_class=same[name] / total)
        rows.append([name, fmt(miou, '.2f'),
                     fmt(100 * same[name] / total, '.3f')])
    title = (f'Accuracy on the validation split of {osp.relpath(args.config)}'
             f' ({n} images), checkpoint {args.checkpoint}')
    return title, format_table(['model', 'mIoU', 'same class as fp32 %'],
                               rows), results


# --------------------------------------------------------------- memory


def memory(args, section):
    """Peak memory of ``section``'s candidates from a worker process."""
    if args.no_memory:
        return {}
    reason = can_measure()
    if reason:
        print(f'peak memory not measured: {reason}')
        return {}
    argv = [osp.abspath(__file__), '--memory-worker', section,
            '--threads', str(args.threads)]
    if args.quick:
        argv.append('--quick')
    return run_worker(argv)


def memory_worker(args, settings):
    section = args.memory_worker
    s = settings[section]
    if section == 'head':
        _, _, evals, trains = head_callables(s)
        fns = {f'eval/{n}': f for n, f in evals.items()}
        fns.update({f'train/{n}': f for n, f in trains.items()})
    elif section == 'train':
        fns = train_callables(s)[0]
    else:
        raise SystemExit(f'no memory measurement for section {section}')
    print(json.dumps(measure_all(fns, warmup=1,
                                 rounds=1 if args.quick else 3)))


# ----------------------------------------------------------------- main


def machine() -> str:
    cpu = platform.processor() or 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return (f'{cpu}, {torch.get_num_threads()} threads, torch '
            f'{torch.__version__}, Python {platform.python_version()}')


def loadavg() -> str:
    try:
        with open('/proc/loadavg') as f:
            return ' '.join(f.read().split()[:3])
    except OSError:
        return 'n/a'


def quiet_logs():
    """Only warnings from mmengine's logger (builders log every param)."""
    import logging

    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.WARNING)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    settings = QUICK if args.quick else FULL
    args.reps_default = args.reps is None
    if args.reps is None:
        args.reps = 1 if args.quick else 5
    from upernet_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    quiet_logs()
    if args.memory_worker:
        memory_worker(args, settings)
        return
    print(f'machine: {machine()}')
    print(f'load average before: {loadavg()}')
    tput = {}
    if set(args.sections) - {'accuracy', 'slide'}:
        tput = conv_throughput(**settings['conv'], reps=max(args.reps, 3))
        print('plain 3x3 conv {c}->{c} on {n}x{n}: '.format(
            c=settings['conv']['channels'], n=settings['conv']['size']) +
              ', '.join(f'{k} {v / 1e9:.1f} GMAC/s'
                        for k, v in tput.items()))
    results = dict(machine=machine(), conv_macs_per_s=tput)
    runners = dict(head=run_head, model=run_model, layers=run_layers,
                   train=run_train, slide=run_slide, accuracy=run_accuracy)
    with tempfile.TemporaryDirectory() as tmpdir:
        for section in args.sections:
            extra = (tmpdir, ) if section == 'model' else ()
            title, table, data = runners[section](settings[section], args,
                                                  tput, *extra)
            print(f'\n## {title}\n{table}\n(load average after: '
                  f'{loadavg()})', flush=True)
            results[section] = data
    print(f'\nload average after: {loadavg()}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1, default=str)


if __name__ == '__main__':
    sys.exit(main())
