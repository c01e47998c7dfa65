"""Where the time of the whole model goes, per layer of the UPerNet head
and backbone stage: mmseg in fp32 against our deploy form in fp32 and bf16
and, when ``openvino`` and ``onnx`` are installed, OpenVINO f32 and bf16 on
our ONNX export (its per-node performance counters, grouped into the same
rows by the module path the exporter records on every ONNX node), with each
layer's MACs and our bf16 throughput."""
import copy
import os.path as osp
import statistics
from collections import defaultdict
from typing import Dict, List, Optional

import torch

from upernet_mm.deploy import deploy_segmentor
from upernet_mm.deploy.onnx.export import export_onnx
from upernet_mm.deploy.segmentor_logits import SegmentorLogits
from .. import candidates
from ..floor import macs_by_module
from ..layer_profile import module_times, uper_layers
from ..table import fmt, format_table

try:
    import onnx

    from upernet_mm.deploy.openvino.runtime import compile_config, ov
except ImportError:  # optional: the OpenVINO columns are left out
    onnx = ov = None


def onnx_node_modules(path: str) -> Dict[str, Optional[str]]:
    """Module path of every node and node output of an ONNX file written
    by the dynamo exporter (from its ``namespace`` metadata; None for nodes
    outside any module of the backbone or decode head)."""
    model = onnx.load(path, load_external_data=False)
    modules = {}
    for node in model.graph.node:
        meta = {p.key: p.value for p in node.metadata_props}
        scopes = [
            s.split(':')[0].strip()
            for s in meta.get('namespace', '').split('/')
        ]
        scopes = [
            s for s in scopes if s.startswith(('backbone', 'decode_head'))
        ]
        for name in [node.name, *node.output]:
            modules[name] = scopes[-1] if scopes else None
    return modules


def _row(module: Optional[str], rows: List[str]) -> str:
    """The longest row name that is ``module`` or a parent of it."""
    if module is None:
        return 'other'
    best = 'other'
    for row in rows:
        if (module == row or module.startswith(row + '.')) \
                and len(row) > len(best if best != 'other' else ''):
            best = row
    return best


def openvino_times(path: str, image: torch.Tensor, precision: str,
                   rows: List[str], reps: int) -> Dict[str, float]:
    """Median seconds per row of OpenVINO's performance counters (plus
    'other' and 'total') for the ONNX model at ``path``.

    Nodes OpenVINO inserts or renames (reorders, precision conversions,
    decomposed LayerNorms) count in the row of the node executed before
    them; nodes outside the listed modules (the input normalisation, the
    head's resizes, additions and concatenation, the final resize) in
    'other'.
    """
    modules = onnx_node_modules(path)
    core = ov.Core()
    config = dict(compile_config(precision), PERF_COUNT='YES')
    request = core.compile_model(core.read_model(path), 'CPU',
                                 config).create_infer_request()
    feed = {0: image.numpy()}
    request.infer(feed)  # warm-up
    runs = []
    for _ in range(reps):
        request.infer(feed)
        acc = defaultdict(float)
        current = 'other'
        for info in request.get_profiling_info():
            if info.status != info.Status.EXECUTED:
                continue
            name = info.node_name
            if name not in modules:
                name = name.split('/')[0]
            if name in modules:
                current = _row(modules[name], rows)
            acc[current] += info.real_time.total_seconds()
        acc['total'] = sum(acc.values())
        runs.append(acc)
    return {
        k: statistics.median(r.get(k, 0.0) for r in runs)
        for k in list(rows) + ['other', 'total']
    }


def run(settings, opts, conv_peak):
    model_cfg = candidates.convnext_model_cfg(settings['arch'],
                                              settings['channels'],
                                              settings['classes'])
    models = candidates.build_segmentors(model_cfg)
    ours = models['upernet_mm']
    h, w = settings['image']
    pre = ours.data_preprocessor
    image = torch.rand(
        1, 3, h, w, generator=torch.Generator().manual_seed(7)) * 255
    x = (image.flip(1) - pre.mean) / pre.std
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
        times[label]['other'] = times[label]['total'] - sum(times[label][n]
                                                            for n in names)
    notes = []
    if ov is not None and not getattr(opts, 'no_openvino', False):
        path = export_onnx(
            ours, osp.join(opts.tmpdir, 'layers.onnx'), example_size=(h, w))
        for precision in ('f32', 'bf16'):
            times[f'OpenVINO {precision}'] = openvino_times(
                path, image, precision, names, opts.reps)
        notes.append('OpenVINO: sums of its performance counters '
                     '(PERF_COUNT=YES), which slow it slightly; inserted '
                     'reorders count in the row before them, the head\'s '
                     'resizes/adds/concat in "other"')
    else:
        notes.append('OpenVINO columns left out (pip install openvino '
                     'onnx)')
    rows = []
    labels = list(times)
    for name in names + ['other', 'total']:
        ts = [times[v][name] for v in labels]
        if name == 'other':  # resizes, concatenations, final upsampling
            gmac = None
        else:
            gmac = macs.get(name, 0) / 1e9 if name != 'total' else \
                macs[''] / 1e9
        bf16_rate = gmac / ts[2] if gmac and ts[2] > 0 else None
        rows.append([name, fmt(gmac, '.2f')] +
                    [fmt(t * 1e3, '.0f') for t in ts] + [
                        fmt(bf16_rate, '.0f'),
                        fmt(ts[0] / ts[2] if ts[2] > 0 else None, '.2f')
                    ])
    title = (f'Per layer, ConvNeXt-{settings["arch"]} UPerNet at {h}x{w} '
             f'(median of {opts.reps}; conv peak fp32 '
             f'{conv_peak["fp32"] / 1e9:.0f}, '
             f'bf16 {conv_peak["bf16"] / 1e9:.0f} GMAC/s)')
    table = format_table(['layer', 'GMAC'] + [f'{v} ms' for v in labels] +
                         ['bf16 GMAC/s', 'mmseg/bf16'], rows)
    table += '\n' + '\n'.join(notes)
    return title, table, dict(times=times)
