"""int8 reference points of the benchmark: onnxruntime's static
quantization of our ONNX export (the int8 path an ONNX deployer takes), and
the int8 3x3 convolution peak of this machine.

onnxruntime's quantizer writes a QDQ graph (QuantizeLinear/DequantizeLinear
pairs around each convolution and matmul, weights per output channel, int8
activations), calibrated with MinMax ranges over the given images; its CPU
provider fuses each pair into an integer convolution.
"""
import os.path as osp
from typing import Callable, Dict, Iterable, List, Sequence

import numpy as np
import torch
import torch.nn as nn

from .timing import interleaved_times, median

try:  # OpenVINO and NNCF are optional (requirements/optional.txt)
    from upernet_mm.deploy.openvino.artefact import telemetry_off
    from upernet_mm.deploy.openvino.runtime import ov
    with telemetry_off():
        import nncf
except ImportError:
    ov = nncf = None


class _Images:
    """onnxruntime's ``CalibrationDataReader`` protocol over arrays."""

    def __init__(self, input_name: str, images: Sequence[np.ndarray]):
        self.input_name = input_name
        self.images = list(images)
        self.index = 0

    def get_next(self):
        if self.index >= len(self.images):
            return None
        self.index += 1
        return {self.input_name: self.images[self.index - 1]}

    def rewind(self):
        self.index = 0


def ort_quantize_static(onnx_path: str, out_path: str,
                        images: Iterable[np.ndarray]) -> str:
    """Write an int8 QDQ copy of ``onnx_path`` to ``out_path``, calibrated
    on ``images`` (each a float32 array the model's single input takes).

    Returns:
        str: ``out_path``.
    """
    # local imports: onnx and onnxruntime are optional dependencies
    # (requirements/optional.txt) that only the onnxruntime int8 rows need
    import onnx
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = onnx.load(onnx_path, load_external_data=False)
    if len(model.graph.input) != 1:
        raise ValueError(f'ort_quantize_static: {onnx_path} has '
                         f'{len(model.graph.input)} inputs, expected 1')
    input_name = model.graph.input[0].name
    prepared = osp.splitext(out_path)[0] + '.pre.onnx'
    quant_pre_process(onnx_path, prepared, skip_symbolic_shape=True)
    quantize_static(
        prepared,
        out_path,
        _Images(input_name, images),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax)
    return out_path


def ort_runner(path: str, threads: int) -> Callable[..., np.ndarray]:
    """A function running the ONNX file ``path`` with onnxruntime's CPU
    provider (``threads`` intra-op threads, one inter-op) on one input (a
    float32 array or tensor)."""
    import onnxruntime as ort  # local: an optional dependency
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
    name = sess.get_inputs()[0].name

    def run(x) -> np.ndarray:
        if torch.is_tensor(x):
            x = x.detach().cpu().float().numpy()
        return sess.run(None, {name: np.ascontiguousarray(x)})[0]

    return run


def _openvino_int8_conv_seconds(conv: nn.Module, x: torch.Tensor, threads: int,
                                reps: int) -> List[float]:
    """Seconds of the convolution node itself (OpenVINO's performance
    counters) in ``reps`` calls of ``conv`` quantized by NNCF: the layout
    reorders and input quantization around a lone convolution are left out,
    as the float peak's channels_last input has none."""
    with telemetry_off():
        model = ov.convert_model(conv, example_input=x)
        quantized = nncf.quantize(
            model, nncf.Dataset([x.numpy()]), subset_size=1)
    compiled = ov.Core().compile_model(
        quantized, 'CPU', {
            'INFERENCE_NUM_THREADS': threads,
            'PERFORMANCE_HINT': 'LATENCY',
            'PERF_COUNT': True
        })
    request = compiled.create_infer_request()
    data = x.numpy()
    seconds = []
    for i in range(reps + 2):
        request.infer([data])
        conv_time = sum(p.real_time.total_seconds()
                        for p in request.get_profiling_info()
                        if p.node_type == 'Convolution')
        if i >= 2:  # warm-up
            seconds.append(conv_time)
    return seconds


def int8_conv_throughput(tmpdir: str,
                         channels: int = 512,
                         size: int = 128,
                         reps: int = 5,
                         threads: int = 1) -> Dict[str, float]:
    """MAC/s of the int8 3x3 ``channels``->``channels`` convolution of
    :func:`upernet_mm.benchmark.floor.conv_throughput`, statically quantized
    by each int8 runtime available here, batch 1: OpenVINO (NNCF; the
    convolution node's own time) and onnxruntime (QDQ; the whole session
    call, its quantize/dequantize included: it has no per-node timer).

    Returns:
        dict[str, float]: MAC/s by runtime (``'openvino'``,
        ``'onnxruntime'``); runtimes that are not installed are left out.
    """
    macs = channels * channels * 9 * size * size
    gen = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(channels, channels, 3, padding=1).eval()
    x = torch.randn(1, channels, size, size, generator=gen)
    result = {}
    if ov is not None:
        result['openvino'] = macs / median(
            _openvino_int8_conv_seconds(conv, x, threads, reps))
    try:  # onnxruntime is optional: without it, no onnxruntime row
        import onnxruntime  # noqa: F401
    except ImportError:
        return result
    path = osp.join(tmpdir, 'conv3x3.onnx')
    torch.onnx.export(
        conv, (x, ), path, input_names=['x'], output_names=['y'], dynamo=False)
    qpath = ort_quantize_static(path, osp.join(tmpdir, 'conv3x3.int8.onnx'),
                                [x.numpy()])
    run = ort_runner(qpath, threads)
    data = x.numpy()
    times = interleaved_times({'onnxruntime': lambda: run(data)},
                              warmup=2,
                              reps=reps)
    result['onnxruntime'] = macs / median(times['onnxruntime'])
    return result


def agreement(logits: torch.Tensor, reference: torch.Tensor) -> float:
    """Share of pixels whose arg-max class equals the reference's."""
    return (logits.argmax(1) == reference.argmax(1)).float().mean().item()


def calibration_images(count: int,
                       size: Sequence[int],
                       seed: int = 11) -> List[np.ndarray]:
    """``count`` seeded random (1, 3, H, W) float32 images of 0-255 values,
    the model section's calibration set (its weights are random, so no
    image is more typical than another)."""
    gen = torch.Generator().manual_seed(seed)
    h, w = size
    return [(torch.rand(1, 3, h, w, generator=gen) * 255).numpy()
            for _ in range(count)]
