"""Run an OpenVINO artefact (see :mod:`.artefact`) on the CPU:
image batches in, logits out.

Imports ``openvino`` (``requirements/optional.txt``); only the OpenVINO paths
import this module, so ``import upernet_mm`` works without it.
"""
from typing import Optional

import numpy as np
import torch

from .artefact import check_deploy_precision, read_sidecar, telemetry_off

with telemetry_off():  # importing openvino sends a usage event otherwise
    import openvino as ov


def compile_config(inference_precision: str,
                   num_threads: Optional[int] = None,
                   performance_hint: str = 'LATENCY') -> dict:
    """Properties of ``Core.compile_model`` for the CPU plugin.

    The inference precision is always explicit: on CPUs with AMX the plugin
    otherwise runs float32 models in bfloat16.

    Args:
        inference_precision (str): ``'f32'`` or ``'bf16'``
            (``INFERENCE_PRECISION_HINT``: the precision of what is not int8).
        num_threads (int, optional): ``INFERENCE_NUM_THREADS``; default
            ``torch.get_num_threads()``, as the PyTorch forms use.
        performance_hint (str): ``PERFORMANCE_HINT``. Default: 'LATENCY'.
    """
    return {
        'INFERENCE_PRECISION_HINT': inference_precision,
        'INFERENCE_NUM_THREADS': int(num_threads or torch.get_num_threads()),
        'PERFORMANCE_HINT': performance_hint,
    }


class OpenVINOLogits:
    """A compiled OpenVINO segmentor: image batch to logits, the convention
    of :class:`upernet_mm.deploy.segmentor_logits.SegmentorLogits`.

    Call it with (N, 3, H, W) float32 images, 0-255, channels in the data
    pipeline's order (BGR after ``LoadImageFromFile``); it returns float32
    logits (N, num_classes, H, W) as a torch tensor. H and W may be any size
    the backbone accepts; each new size costs a shape inference inside
    OpenVINO.

    Attributes:
        precision (str): ``'fp32'``, ``'bf16'`` or ``'int8'``.
        num_classes (int): Channels of the logits.
        config (dict): The properties the model was compiled with.
        compiled (openvino.CompiledModel): The compiled model.
        info (dict): The checked sidecar (see
            :func:`~.artefact.read_sidecar`), None for a model
            compiled from memory.
    """

    def __init__(self,
                 compiled,
                 precision: str,
                 num_classes: int,
                 config: dict,
                 info: Optional[dict] = None):
        self.compiled = compiled
        self.precision = precision
        self.num_classes = num_classes
        self.config = dict(config)
        self.info = info
        self._request = compiled.create_infer_request()

    def __call__(self, images) -> torch.Tensor:
        if torch.is_tensor(images):
            images = images.detach().to('cpu', torch.float32).numpy()
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError('OpenVINOLogits: images must be (N, 3, H, W), '
                             f'got {tuple(images.shape)}')
        self._request.infer({0: images})
        # the request reuses its output buffer: copy before the next call
        out = self._request.get_output_tensor(0).data
        return torch.from_numpy(np.array(out, dtype=np.float32, copy=True))

    def __repr__(self):
        return (f'OpenVINOLogits(precision={self.precision!r}, '
                f'num_classes={self.num_classes}, config={self.config})')


def compile_ir(model,
               precision: str,
               inference_precision: str,
               num_classes: int,
               num_threads: Optional[int] = None,
               performance_hint: str = 'LATENCY',
               info: Optional[dict] = None) -> OpenVINOLogits:
    """Compile an ``openvino.Model`` (or an IR path) for the CPU."""
    config = compile_config(inference_precision, num_threads, performance_hint)
    compiled = ov.Core().compile_model(model, 'CPU', config)
    return OpenVINOLogits(compiled, precision, num_classes, config, info)


def load_openvino(path,
                  deploy: Optional[str] = None,
                  num_threads: Optional[int] = None) -> OpenVINOLogits:
    """Load and compile an artefact written by
    :func:`upernet_mm.deploy.openvino.export.export_openvino`.

    The sidecar is read as untrusted JSON and checked (see
    :func:`~.artefact.read_sidecar`); the IR is read with the
    ``.bin`` given explicitly, without extensions.

    Args:
        path (str): The artefact directory or its ``.xml``.
        deploy (str, optional): The precision the caller expects
            (``--deploy``); an artefact of another precision is an error.
        num_threads (int, optional): ``INFERENCE_NUM_THREADS``; default
            ``torch.get_num_threads()``.

    Returns:
        OpenVINOLogits: Compiled with the sidecar's runtime hints.

    Raises:
        ArtefactError: For a missing, malformed or unsafe artefact, or one
            whose precision is not ``deploy``.
    """
    info = read_sidecar(path)
    precision = check_deploy_precision(info, deploy)
    core = ov.Core()
    model = core.read_model(info['xml_path'], info['bin_path'])
    runtime = info['runtime']
    config = compile_config(runtime['inference_precision_hint'], num_threads,
                            runtime['performance_hint'])
    compiled = core.compile_model(model, 'CPU', config)
    return OpenVINOLogits(compiled, precision, info['num_classes'], config,
                          info)
