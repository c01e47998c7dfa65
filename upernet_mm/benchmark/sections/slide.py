"""Sliding-window inference of a 2048x1024 image: mmseg's sequential loop
against our batched crops (``test_cfg.batch_size``), same model and input:
time and largest logit difference."""
import copy

import torch
from mmengine.config import ConfigDict

from upernet_mm.apis import build_segmentor
from upernet_mm.models.segmentors import check_test_cfg
from .. import candidates
from ..table import fmt, format_table
from ..timing import interleaved_times, median


def batched_slide_available() -> str:
    """'' if the segmentor in our scope takes ``test_cfg.batch_size``, else
    the reason."""
    try:
        check_test_cfg(
            dict(mode='slide', crop_size=(8, 8), stride=(4, 4), batch_size=2))
    except ValueError as e:
        return f'test_cfg.batch_size is not accepted: {e}'
    return ''


def run(settings, opts, conv_peak):
    reason = batched_slide_available()
    if reason:
        return 'Sliding-window inference', f'skipped: {reason}', {}
    model_cfg = candidates.convnext_model_cfg(settings['arch'])
    torch.manual_seed(0)
    model = candidates.randomize(build_segmentor(model_cfg)).eval()
    h, w = settings['image']
    gen = torch.Generator().manual_seed(9)
    x = torch.randn(1, 3, h, w, generator=gen)
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))]
    base = dict(
        mode='slide', crop_size=settings['crop'], stride=settings['stride'])
    modes = {
        'sequential (mmseg slide)':
        dict(base),
        f'batched, batch_size={settings["batch_size"]}':
        dict(base, batch_size=settings['batch_size'])
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
    times = interleaved_times(
        fns, 0, settings['reps'] if opts.reps_default else opts.reps)
    ref = median(times[next(iter(fns))])
    crops = _num_crops((h, w), settings['crop'], settings['stride'])
    rows = [[
        n,
        fmt(median(t), '.2f'),
        fmt(ref / median(t), '.3f'),
        fmt((outs[n] - first).abs().max().item(), '.1e')
    ] for n, t in times.items()]
    title = (f'Sliding window on a {w}x{h} image '
             f'(ConvNeXt-{settings["arch"]}, crop {settings["crop"][0]}, '
             f'stride {settings["stride"][0]}, {crops} crops, fp32)')
    table = format_table(['mode', 'median s', 'speed-up', 'max |diff|'], rows)
    return title, table, dict(times=times)


def _num_crops(size, crop, stride):
    n = 1
    for dim, c, st in zip(size, crop, stride):
        n *= max(dim - c + st - 1, 0) // st + 1
    return n
