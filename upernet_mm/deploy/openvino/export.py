"""Export a segmentor to an OpenVINO artefact (IR + sidecar) in fp32, bf16
or int8, checked against the PyTorch model at export time.

The IR is converted from
:class:`~upernet_mm.deploy.segmentor_logits.SegmentorLogits` by
``openvino.convert_model`` (PyTorch frontend): input ``image`` (N, 3, H, W)
float32 0-255 in the pipeline's channel order, output ``logits``
(N, num_classes, H, W), N, H and W dynamic (OpenVINO's own
``AdaptiveAvgPool`` follows the input size, so the pyramid pooling needs no
rewrite as for ONNX). BatchNorm is folded first.

* ``fp32``: weights float32 in the IR, run with
  ``INFERENCE_PRECISION_HINT=f32`` (explicit: AMX CPUs default to bf16).
* ``bf16``: the same IR, run with ``INFERENCE_PRECISION_HINT=bf16``.
* ``int8``: post-training static quantization by NNCF (``nncf.quantize``)
  on calibration images; what :data:`KEEP_FLOAT` names stays unquantized,
  and runs at the sidecar's ``inference_precision_hint``.

OpenVINO's converter and NNCF send usage statistics unless a consent file
says otherwise; both skip it in CI, which :func:`telemetry_off` declares
while they run (no network is ever needed).

Imports ``openvino`` and ``nncf`` (``requirements/optional.txt``); only the
OpenVINO paths import this module.
"""
import copy
import os
import os.path as osp
import re
from typing import Iterable, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from ..pytorch.fold_bn import fold_batchnorm
from ..segmentor_logits import INPUT_NAME, OUTPUT_NAME, SegmentorLogits
from .artefact import (BIN, PRECISIONS, XML, ArtefactError, telemetry_off,
                       write_sidecar)
from .runtime import load_openvino

with telemetry_off():  # both initialise their telemetry on import
    import nncf
    import openvino as ov

# Default runtime precision of what is not int8 in an int8 IR.
INT8_INFERENCE_PRECISION = 'bf16'
# Groups of layers an int8 export may keep unquantized: name patterns (regular
# expressions on the converted model's node names, which start with the
# module path) and node types.
KEEP_FLOAT_PATTERNS = {
    # the final 1x1 classifiers (decode head; auxiliary heads never run)
    'classifier': [r'^__module\.decode_head\.conv_seg/'],
    # the first convolution of the backbone (ConvNeXt, ResNet(V1c), Swin)
    'stem': [
        r'^__module\.backbone\.downsample_layers\.0\.0/',
        r'^__module\.backbone\.stem\.0/', r'^__module\.backbone\.conv1/',
        r'^__module\.backbone\.patch_embed\.projection/'
    ],
}
KEEP_FLOAT_TYPES = {'layernorm': ['MVN']}
KEEP_FLOAT_GROUPS = tuple(KEEP_FLOAT_PATTERNS) + tuple(KEEP_FLOAT_TYPES)
# what the int8 export keeps in higher precision unless told otherwise
KEEP_FLOAT = ('classifier', )


def convert(
    segmentor: nn.Module,
    example_size: Sequence[int] = (512, 512)) -> 'ov.Model':
    """``openvino.Model`` of :class:`SegmentorLogits` of a copy of
    ``segmentor`` (BatchNorm folded), dynamic N, H, W; float32."""
    model = copy.deepcopy(segmentor).float().eval()
    fold_batchnorm(model)
    wrapper = SegmentorLogits(model).eval()
    h, w = example_size
    gen = torch.Generator().manual_seed(0)
    example = torch.rand(1, 3, h, w, generator=gen) * 255
    with torch.no_grad():
        out = wrapper(example)
    if not torch.is_tensor(out) or out.dim() != 4:
        raise ValueError(
            'OpenVINO export: the decode head must return one logits map '
            f'(N, C, H, W); {type(segmentor.decode_head).__name__} returned '
            f'{type(out).__name__}')
    with telemetry_off(), torch.no_grad():
        ov_model = ov.convert_model(
            wrapper,
            example_input=example,
            input=[ov.PartialShape([-1, 3, -1, -1])])
    ov_model.inputs[0].get_tensor().set_names({INPUT_NAME})
    ov_model.outputs[0].get_tensor().set_names({OUTPUT_NAME})
    return ov_model


def _stable_names(ov_model) -> None:
    """Replace OpenVINO's generated node names (``Constant_12073``: a
    process-wide counter) by names from the graph order, so that the same
    model and calibration write the same IR bytes in any process."""
    ov_model.set_friendly_name('upernet_mm')
    for index, op in enumerate(ov_model.get_ordered_ops()):
        name = op.get_friendly_name()
        kind = op.get_type_name()
        if re.fullmatch(rf'{kind}_\d+', name):
            op.set_friendly_name(f'{kind}_n{index}')


def ignored_scope(keep_float: Sequence[str]):
    """``nncf.IgnoredScope`` of the :data:`KEEP_FLOAT_GROUPS` named."""
    patterns, types = [], []
    for group in keep_float:
        if group in KEEP_FLOAT_PATTERNS:
            patterns += KEEP_FLOAT_PATTERNS[group]
        elif group in KEEP_FLOAT_TYPES:
            types += KEEP_FLOAT_TYPES[group]
        else:
            raise ValueError(f'keep_float: unknown group {group!r}, choose '
                             f'from {KEEP_FLOAT_GROUPS}')
    return nncf.IgnoredScope(patterns=patterns, types=types, validate=False)


def _as_array(image) -> np.ndarray:
    if torch.is_tensor(image):
        image = image.detach().cpu().numpy()
    image = np.ascontiguousarray(image, dtype=np.float32)
    if image.ndim != 4 or image.shape[:2] != (1, 3):
        raise ValueError('calibration images must be (1, 3, H, W), got '
                         f'{tuple(image.shape)}')
    return image


def quantize(ov_model,
             calibration: Iterable,
             keep_float: Sequence[str] = KEEP_FLOAT,
             fast_bias_correction: bool = True,
             transformer: bool = False):
    """int8 post-training static quantization of ``ov_model`` by NNCF.

    Args:
        ov_model (openvino.Model): The float32 model.
        calibration (Iterable): (1, 3, H, W) float32 images, 0-255, the
            model's input convention; all of them are used, in order.
        keep_float (Sequence[str]): Groups of :data:`KEEP_FLOAT_GROUPS` left
            unquantized.
        fast_bias_correction (bool): NNCF's fast bias correction (else the
            slower full one). Default: True.
        transformer (bool): ``model_type=nncf.ModelType.TRANSFORMER``
            (SmoothQuant, different ignored patterns). Default: False.

    Returns:
        openvino.Model: The quantized model.
    """
    images = [_as_array(image) for image in calibration]
    if not images:
        raise ValueError('int8 quantization needs calibration images')
    kwargs = dict(
        subset_size=len(images),
        fast_bias_correction=fast_bias_correction,
        ignored_scope=ignored_scope(keep_float))
    if transformer:
        kwargs['model_type'] = nncf.ModelType.TRANSFORMER
    with telemetry_off():
        return nncf.quantize(ov_model, nncf.Dataset(images), **kwargs)


def check_against_pytorch(segmentor: nn.Module, runner, images) -> dict:
    """Compare a compiled artefact with the PyTorch model (float32
    :class:`SegmentorLogits`, BatchNorm not folded) on ``images``.

    Returns:
        dict: ``images`` (how many), ``sizes`` (distinct (H, W)),
        ``max_abs_logit_diff`` and ``pixel_agreement`` (fraction of pixels
        with the same arg-max class).
    """
    reference = SegmentorLogits(copy.deepcopy(segmentor).float().eval())
    diff, same, total, count, sizes = 0.0, 0, 0, 0, []
    for image in images:
        count += 1
        image = torch.as_tensor(_as_array(image))
        with torch.no_grad():
            expected = reference(image)
        got = runner(image)
        diff = max(diff, (got - expected).abs().max().item())
        same += (got.argmax(1) == expected.argmax(1)).sum().item()
        total += expected[:, 0].numel()
        if list(image.shape[2:]) not in sizes:
            sizes.append(list(image.shape[2:]))
    if not total:
        raise ValueError('the export check needs at least one image')
    return dict(
        images=count,
        sizes=sizes,
        max_abs_logit_diff=float(diff),
        pixel_agreement=same / total)


def random_images(sizes: Sequence[Sequence[int]], seed: int = 0) -> list:
    """One seeded random (1, 3, H, W) float32 0-255 image per size."""
    gen = torch.Generator().manual_seed(seed)
    return [(torch.rand(1, 3, h, w, generator=gen) * 255).numpy()
            for h, w in sizes]


def export_openvino(segmentor: nn.Module,
                    out_dir: str,
                    precision: str = 'fp32',
                    example_size: Sequence[int] = (512, 512),
                    calibration: Optional[Iterable] = None,
                    check_images: Optional[Iterable] = None,
                    keep_float: Sequence[str] = KEEP_FLOAT,
                    fast_bias_correction: bool = True,
                    transformer: bool = False,
                    inference_precision: Optional[str] = None,
                    checkpoint_sha256: Optional[str] = None,
                    calibration_info: Optional[dict] = None,
                    num_threads: Optional[int] = None) -> str:
    """Write an OpenVINO artefact of ``segmentor`` into ``out_dir``:
    ``model.xml``, ``model.bin`` and ``upernet_mm_openvino.json``, then
    compile it and compare it with the PyTorch model (the result is printed
    by the tools and recorded in the sidecar's ``check``).

    Args:
        segmentor (nn.Module): An mmseg ``EncoderDecoder``, weights loaded
            (not modified: a copy is exported).
        out_dir (str): Directory to write (created).
        precision (str): ``'fp32'``, ``'bf16'`` or ``'int8'``.
        example_size (Sequence[int]): (H, W) of the tracing input.
        calibration (Iterable, optional): For int8 (required there):
            (1, 3, H, W) float32 images, 0-255, in the data pipeline's
            channel order, e.g. from
            :func:`upernet_mm.deploy.calibration.calibration_images`.
        check_images (Iterable, optional): Images (same convention) for the
            check; default one seeded random image of ``example_size``.
        keep_float (Sequence[str]): int8 only: groups of
            :data:`KEEP_FLOAT_GROUPS` left unquantized.
        fast_bias_correction (bool): int8 only, see :func:`quantize`.
        transformer (bool): int8 only, see :func:`quantize`.
        inference_precision (str, optional): ``INFERENCE_PRECISION_HINT``
            recorded for the runtime, ``'f32'`` or ``'bf16'``; default f32
            for fp32, bf16 for bf16, :data:`INT8_INFERENCE_PRECISION` for
            int8.
        checkpoint_sha256 (str, optional): SHA-256 of the source checkpoint,
            recorded in the sidecar.
        calibration_info (dict, optional): How the calibration images were
            chosen, recorded in the sidecar (JSON-serialisable).
        num_threads (int, optional): Threads of the check's compiled model.

    Returns:
        str: Path of the ``.xml``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got '
                         f'{precision!r}')
    if precision != 'int8' and calibration is not None:
        raise ValueError(f'calibration images are for int8, not {precision}')
    if inference_precision is None:
        inference_precision = dict(
            fp32='f32', bf16='bf16', int8=INT8_INFERENCE_PRECISION)[precision]
    if inference_precision not in ('f32', 'bf16'):
        raise ValueError("inference_precision must be 'f32' or 'bf16', got "
                         f'{inference_precision!r}')
    ov_model = convert(segmentor, example_size)
    fields = dict(
        precision=precision,
        runtime=dict(
            inference_precision_hint=inference_precision,
            performance_hint='LATENCY'),
        input=dict(
            name=INPUT_NAME,
            shape=['N', 3, 'H', 'W'],
            dtype='float32',
            range=[0, 255],
            channels="the data pipeline's order (BGR after "
            "LoadImageFromFile); the config's channel flip and mean/std "
            'normalisation are inside'),
        output=dict(name=OUTPUT_NAME, shape=['N', 'num_classes', 'H', 'W']),
        num_classes=int(segmentor.decode_head.num_classes),
        source_checkpoint_sha256=checkpoint_sha256,
        openvino_version=ov.get_version(),
        calibration=None,
        check=None)
    if precision == 'int8':
        if calibration is None:
            raise ValueError('int8 export needs calibration images')
        images = [_as_array(image) for image in calibration]
        ov_model = quantize(ov_model, images, keep_float, fast_bias_correction,
                            transformer)
        fields['calibration'] = dict(
            images=len(images),
            sizes=sorted({tuple(i.shape[2:])
                          for i in images}),
            keep_float=list(keep_float),
            fast_bias_correction=fast_bias_correction,
            model_type='transformer' if transformer else 'default',
            nncf_version=nncf.__version__,
            **(calibration_info or {}))
    _stable_names(ov_model)
    os.makedirs(out_dir, exist_ok=True)
    xml = osp.join(out_dir, XML)
    ov.save_model(ov_model, xml, compress_to_fp16=False)
    if not osp.isfile(osp.join(out_dir, BIN)):
        raise ArtefactError(f'OpenVINO wrote no {BIN} beside {xml}')
    write_sidecar(out_dir, fields)
    runner = load_openvino(out_dir, num_threads=num_threads)
    images = list(check_images) if check_images is not None else \
        random_images([example_size])
    fields['check'] = dict(
        reference='PyTorch float32 (SegmentorLogits)',
        **check_against_pytorch(segmentor, runner, images))
    write_sidecar(out_dir, fields)
    return xml
