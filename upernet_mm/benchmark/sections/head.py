"""Decode head alone: ConvNeXt-T widths, features of a 512x512 image,
channels 512; eval forward and train forward+backward of upernet_mm's,
mmseg's and transformers' UPerNet heads with the same weights and inputs:
time, peak memory, share of the FLOP floor, largest output difference."""
import torch

from .. import candidates
from ..floor import count_macs
from ..table import fmt, format_table
from ..timing import interleaved_times, median


def callables(settings):
    """Eval and train callables of the three heads on the same input."""
    cfg = candidates.head_cfg(settings['channels'], settings['classes'])
    heads = candidates.build_heads(cfg)
    feats = candidates.features(settings['batch'], settings['image'])
    gen = torch.Generator().manual_seed(5)
    out_shape = ((settings['batch'], settings['classes']) +
                 tuple(feats[0].shape[2:]))
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


def run(settings, opts, conv_peak):
    heads, feats, evals, trains = callables(settings)
    outs = {n: fn() for n, fn in evals.items()}
    diffs = {
        n: (o - outs['upernet_mm']).abs().max().item()
        for n, o in outs.items()
    }
    macs = count_macs(heads['upernet_mm'].eval(), (feats, ))
    t_eval = interleaved_times(evals, opts.warmup, opts.reps)
    t_train = interleaved_times(trains, opts.warmup, opts.reps)
    mem = opts.memory('head')
    rows = []
    for mode, times, k in (('eval', t_eval, 1), ('train', t_train, 3)):
        ref = median(times['mmseg'])
        floor = k * macs / conv_peak['fp32']
        for n in heads:
            t = median(times[n])
            rows.append([
                mode, n,
                fmt(t * 1e3, '.1f'),
                fmt(ref / t, '.3f'),
                fmt(floor / t, '.2f'),
                fmt(mem.get(f'{mode}/{n}', 0) / 2**20, '.0f') if mem else None,
                fmt(diffs[n], '.1e') if mode == 'eval' else None
            ])
    title = (f'Decode head alone: batch {settings["batch"]}, features of a '
             f'{settings["image"][0]}x{settings["image"][1]} image, channels '
             f'{settings["channels"]}, {macs / 1e9:.2f} GMAC forward')
    table = format_table([
        'mode', 'implementation', 'median ms', 'mmseg/this', 'of fp32 floor',
        'peak MB', 'max |diff|'
    ], rows)
    return title, table, dict(
        macs=macs, eval=t_eval, train=t_train, memory=mem, max_abs_diff=diffs)
