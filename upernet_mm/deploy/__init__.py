"""A trained segmentor in the forms it is deployed in.

* :mod:`.pytorch`: the PyTorch deploy form, the same model object made
  faster in place by :func:`deploy_segmentor` (BatchNorm folding,
  ``channels_last``, oneDNN post-op fusion, Winograd 3x3 convolutions,
  bfloat16, ``torch.compile``);
* :mod:`.onnx`: export to an ONNX graph with dynamic batch, height and
  width (onnxruntime runs it);
* :mod:`.openvino`: the OpenVINO artefact (IR + JSON sidecar) in fp32, bf16
  or int8: its export, its hostile-input reader, its runtime and the
  segmentor that runs it.

Shared by the exported forms: :mod:`.segmentor_logits` (the module the ONNX
and OpenVINO graphs are traced from), :mod:`.logits_segmentor` (an mmseg
segmentor whose network is any image-to-logits callable),
:mod:`.calibration` (the int8 calibration images) and :mod:`.cli`
(``--deploy`` and ``--compile`` of the tools).

Importing this package imports neither onnx nor openvino (optional
dependencies, ``requirements/optional.txt``); only the modules of the
:mod:`.openvino` export and runtime, which need them, import them.
"""
from .pytorch import PRECISIONS, FoldReport, deploy_segmentor, fold_batchnorm

__all__ = ['FoldReport', 'PRECISIONS', 'deploy_segmentor', 'fold_batchnorm']
