"""Whole UPerNet ConvNeXt-T at 512x512, eval, batch 1, same weights and
input in every row: upernet_mm, its PyTorch deploy forms (fp32, bf16,
optionally compiled), mmseg, transformers, onnxruntime on our ONNX export
(fp32 and statically quantized int8), and OpenVINO on our IR (fp32, bf16,
int8 calibrated by NNCF). Per row: median time, speed against mmseg fp32,
share of that precision's conv peak, peak memory, largest logit difference
and share of pixels given the same class as our fp32 model.

The candidates are made once in the parent process (weights, exports and
quantized artefacts written to a temporary folder); each one's peak memory
is measured in a fresh worker process that loads only that candidate (see
:func:`form_memory`).
"""
import gc
import os.path as osp
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch

from upernet_mm.apis import build_segmentor
from upernet_mm.deploy import deploy_segmentor
from upernet_mm.deploy.onnx.export import export_onnx
from upernet_mm.deploy.segmentor_logits import SegmentorLogits
from .. import candidates, int8
from ..floor import count_macs
from ..memory import reset_peak, status_kib
from ..table import fmt, format_table
from ..timing import interleaved_times, median

try:  # OpenVINO and NNCF are optional (requirements/optional.txt)
    from upernet_mm.deploy.openvino.export import export_openvino
    from upernet_mm.deploy.openvino.runtime import load_openvino
    OPENVINO_MISSING = ''
except ImportError as e:
    export_openvino = load_openvino = None
    OPENVINO_MISSING = str(e)

MMSEG = 'mmseg'
OURS = 'upernet_mm'
CALIBRATION_IMAGES = 16


def _image(settings) -> torch.Tensor:
    h, w = settings['image']
    gen = torch.Generator().manual_seed(7)
    return torch.rand(1, 3, h, w, generator=gen) * 255  # BGR, 0-255


def _normalized(image: torch.Tensor, model_cfg: Dict) -> torch.Tensor:
    """``image`` as the model config's data preprocessor hands it on."""
    pre = model_cfg['data_preprocessor']
    x = image.flip(1) if pre.get('bgr_to_rgb') else image
    mean = torch.tensor(pre['mean']).view(1, -1, 1, 1)
    std = torch.tensor(pre['std']).view(1, -1, 1, 1)
    return (x - mean) / std


def row_names(with_compile: bool, with_onnx: bool,
              with_openvino: bool) -> List[str]:
    """The rows of the table, in order."""
    names = [OURS, f'{OURS} deploy fp32', f'{OURS} deploy bf16']
    if with_compile:
        names.append(f'{OURS} deploy bf16 compiled')
    names += [MMSEG, 'transformers']
    if with_onnx:
        names += ['onnxruntime fp32', 'onnxruntime int8']
    if with_openvino:
        names += ['openvino fp32', 'openvino bf16', 'openvino int8']
    return names


def with_openvino(opts) -> bool:
    """Whether the OpenVINO rows run (not ``--no-openvino``, installed)."""
    return not opts.no_openvino and not OPENVINO_MISSING


def precision_of(name: str) -> str:
    return next((p for p in ('bf16', 'int8') if p in name), 'fp32')


def prepare(settings, opts) -> Dict:
    """Write what every candidate is built from into ``opts.tmpdir``: the
    model config, its seeded random weights, our ONNX export and its int8
    copy, our OpenVINO IRs; return the manifest naming them."""
    model_cfg = candidates.convnext_model_cfg(settings['arch'],
                                              settings['channels'],
                                              settings['classes'])
    ours = candidates.build_segmentors(model_cfg)[OURS]
    state_path = osp.join(opts.tmpdir, 'model_state.pth')
    torch.save(ours.state_dict(), state_path)
    calib = int8.calibration_images(
        CALIBRATION_IMAGES if not opts.quick else 2, settings['image'])
    manifest = dict(model_cfg=model_cfg, state=state_path, notes=[])
    if not opts.no_onnx:
        onnx_path = export_onnx(
            ours,
            osp.join(opts.tmpdir, 'model.onnx'),
            example_size=settings['image'])
        start = time.perf_counter()
        manifest['onnx fp32'] = onnx_path
        manifest['onnx int8'] = int8.ort_quantize_static(
            onnx_path, osp.join(opts.tmpdir, 'model.int8.onnx'), calib)
        manifest['notes'].append(
            f'onnxruntime int8: quantize_static (QDQ, per-channel int8 '
            f'weights, int8 activations, MinMax) on {len(calib)} seeded '
            f'random images, {time.perf_counter() - start:.0f} s')
    if with_openvino(opts):
        for precision in ('fp32', 'bf16', 'int8'):
            start = time.perf_counter()
            manifest[f'openvino {precision}'] = export_openvino(
                ours,
                osp.join(opts.tmpdir, f'openvino_{precision}'),
                precision=precision,
                example_size=settings['image'],
                calibration=calib if precision == 'int8' else None)
            if precision == 'int8':
                manifest['notes'].append(
                    f'openvino int8: NNCF calibrated on {len(calib)} seeded '
                    f'random images, {time.perf_counter() - start:.0f} s')
    return manifest


def build(
        name: str,
        manifest: Dict,
        settings,
        threads: int,
        compile_notes: Optional[List[str]] = None
) -> Callable[[], torch.Tensor]:
    """The callable of row ``name``: logits of :func:`_image` (float32)."""
    image = _image(settings)
    model_cfg = manifest['model_cfg']
    if name.startswith(('onnxruntime', 'openvino')):
        if name.startswith('onnxruntime'):
            runtime = int8.ort_runner(
                manifest[name.replace('onnxruntime', 'onnx')], threads)
        else:
            runtime = load_openvino(manifest[name], num_threads=threads)
        data = image.numpy()
        return lambda: torch.as_tensor(runtime(data)).float()
    state = torch.load(manifest['state'], weights_only=True)
    if name == 'transformers':
        hf = candidates.build_transformers(model_cfg, state)
        del state
        x = _normalized(image, model_cfg)

        def hf_fn():
            with torch.no_grad():
                return hf(pixel_values=x).logits

        return hf_fn
    cfg = candidates.with_mmseg_heads(model_cfg) if name == MMSEG \
        else model_cfg
    model = build_segmentor(cfg)
    model.load_state_dict(state, strict=True)
    del state
    model.eval()
    if name.startswith(f'{OURS} deploy'):
        deploy_segmentor(
            model,
            precision=precision_of(name),
            compile=name.endswith('compiled'))
    h, w = settings['image']
    x = _normalized(image, model_cfg)
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))]

    def run():
        with torch.no_grad():
            return model.encode_decode(x, metas).float()

    if name.endswith('compiled'):
        start = time.perf_counter()
        run()
        if compile_notes is not None:
            compile_notes.append(f'{name}: first call (compilation) '
                                 f'{time.perf_counter() - start:.0f} s')
    return run


def form_memory(
        fn_builder: Callable[[], Callable[[], object]]) -> Tuple[int, int]:
    """Resident memory of a deploy form, in bytes: what it holds after it
    is built and has run once (weights, packed weights, runtime arenas),
    and the growth at the peak of one more call (activations, scratch).

    Measured by the calling (worker) process on itself, so every runtime
    (PyTorch, onnxruntime, OpenVINO) is counted the same way.
    """
    gc.collect()
    base = status_kib('VmRSS')
    fn = fn_builder()
    fn()
    gc.collect()
    held = status_kib('VmRSS') - base
    before = status_kib('VmRSS')
    reset_peak()
    fn()
    call = status_kib('VmHWM') - before
    return held * 1024, call * 1024


def build_forms(settings, opts) -> Tuple[Dict, Dict[str, Callable], List[str]]:
    """The manifest of :func:`prepare`, the callable of every row and the
    notes under the table."""
    manifest = prepare(settings, opts)
    notes = list(manifest['notes'])
    names = row_names(opts.compile, not opts.no_onnx, with_openvino(opts))
    if not opts.no_openvino and OPENVINO_MISSING:
        notes.append(f'OpenVINO skipped: {OPENVINO_MISSING} (pip install '
                     'openvino nncf)')
    fns = {
        n: build(n, manifest, settings, torch.get_num_threads(), notes)
        for n in names
    }
    return manifest, fns, notes


def run(settings, opts, conv_peak):
    manifest, fns, notes = build_forms(settings, opts)
    outs = {n: fn() for n, fn in fns.items()}
    ref_out = outs[OURS]
    ours = build_segmentor(manifest['model_cfg']).eval()
    h, w = settings['image']
    macs = count_macs(
        SegmentorLogits(ours).eval(), (torch.zeros(1, 3, h, w), ))
    del ours
    times = interleaved_times(fns, opts.warmup, opts.reps)
    mem = opts.memory_of_forms('model', manifest,
                               [n for n in fns if not n.endswith('compiled')])
    ref = median(times[MMSEG])
    rows = []
    for n in fns:
        t = median(times[n])
        precision = precision_of(n)
        peak = conv_peak.get(precision)
        held, call = mem.get(n, (None, None))
        rows.append([
            n, precision,
            fmt(t * 1e3, '.0f'),
            fmt(ref / t, '.2f'),
            fmt(macs / peak / t if peak else None, '.2f'),
            fmt(None if held is None else (held + call) / 2**20, '.0f'),
            fmt((outs[n] - ref_out).abs().max().item(), '.1e'),
            fmt(100 * int8.agreement(outs[n], ref_out), '.2f')
        ])
    title = (f'Whole UPerNet ConvNeXt-{settings["arch"]} at {h}x{w}, eval, '
             f'batch 1 ({macs / 1e9:.1f} GMAC)')
    table = format_table([
        'implementation', 'precision', 'median ms', 'vs mmseg fp32',
        'of conv peak', 'peak MB', 'max |diff|', 'same class %'
    ], rows)
    if mem:
        notes.append('peak MB: resident memory the form holds after a first '
                     'call plus the growth at the peak of the next call, '
                     'each form alone in a fresh process')
    if notes:
        table += '\n' + '\n'.join(notes)
    return title, table, dict(macs=macs, times=times, memory=mem)


def _load_runtimes() -> None:
    """Load the runtimes' libraries (and OpenVINO's CPU plugin) before the
    baseline of :func:`form_memory`, as PyTorch's already are: their code is
    no form's memory. Both are optional dependencies: a missing one has no
    rows to measure."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        pass
    try:
        import openvino as ov
        ov.Core().get_versions('CPU')
    except ImportError:
        pass


def memory_worker(settings, opts, manifest, name) -> Tuple[int, int]:
    """Worker side of the peak-memory column: one candidate."""
    _load_runtimes()
    return form_memory(
        lambda: build(name, manifest, settings, torch.get_num_threads()))
