"""Where the time of the whole model goes, per layer of the UPerNet head
and backbone stage: mmseg in fp32 against our deploy form in fp32 and bf16,
with each layer's MACs and bf16 throughput."""
import copy

import torch

from upernet_mm.deploy import deploy_segmentor
from upernet_mm.deploy.onnx_export import SegmentorLogits
from .. import candidates as C
from ..floor import macs_by_module
from ..layer_profile import module_times, uper_layers
from ..table import fmt, format_table


def run(s, opts, tput):
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
        times[label] = module_times(model, names, run, reps=opts.reps)
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
             f'of {opts.reps}; conv peak fp32 {tput["fp32"] / 1e9:.0f}, '
             f'bf16 {tput["bf16"] / 1e9:.0f} GMAC/s)')
    table = format_table(['layer', 'GMAC'] + [f'{v} ms' for v in labels] +
                         ['bf16 GMAC/s', 'mmseg/bf16'], rows)
    return title, table, dict(times=times)
