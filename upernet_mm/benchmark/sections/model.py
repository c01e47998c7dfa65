"""Whole UPerNet ConvNeXt-T at 512x512, eval, batch 1: upernet_mm, its deploy
form (fp32, bf16, optionally compiled), mmseg, transformers and onnxruntime
on our ONNX export, with the same weights and input: time, share of the
FLOP floor, largest logit difference and share of pixels given the same
class."""
import copy
import os.path as osp
import time

import torch

from upernet_mm.deploy import deploy_segmentor
from upernet_mm.deploy.onnx_export import SegmentorLogits, export_onnx
from .. import candidates as C
from ..floor import count_macs
from ..table import fmt, format_table
from ..timing import interleaved_times, median


def candidates(s, with_onnx, tmpdir, with_compile=False):
    """Eval callables of the whole model, with the same input."""
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


def run(s, opts, tput):
    ours, x, fns, notes = candidates(s, not opts.no_onnx, opts.tmpdir,
                                     opts.compile)
    outs = {n: fn().float() for n, fn in fns.items()}
    ref_out = outs['upernet_mm']
    ref_cls = ref_out.argmax(1)
    macs = count_macs(SegmentorLogits(ours).eval(), (x, ))
    times = interleaved_times(fns, opts.warmup, opts.reps)
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
