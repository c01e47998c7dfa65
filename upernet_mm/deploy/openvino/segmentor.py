"""The segmentor of an OpenVINO artefact: a :class:`LogitsSegmentor` whose
runtime is the compiled artefact.

Imports ``openvino`` (through :mod:`.runtime`); only the OpenVINO
paths import this module.
"""
from typing import Optional

from upernet_mm.registry import MODELS
from ..logits_segmentor import LogitsSegmentor, runtime_model_cfg
from .artefact import ArtefactError
from .runtime import load_openvino


def openvino_model_cfg(model_cfg,
                       artefact,
                       deploy: Optional[str] = None,
                       num_threads: Optional[int] = None) -> dict:
    """The config of an :class:`OpenVINOSegmentor` running ``artefact`` in
    place of the config's model (see
    :func:`~upernet_mm.deploy.logits_segmentor.runtime_model_cfg`)."""
    return runtime_model_cfg(
        model_cfg,
        'upernet_mm.OpenVINOSegmentor',
        artefact=str(artefact),
        deploy=deploy,
        num_threads=num_threads)


@MODELS.register_module()
class OpenVINOSegmentor(LogitsSegmentor):
    """A :class:`LogitsSegmentor` running an OpenVINO artefact (see
    :func:`upernet_mm.deploy.openvino.export.export_openvino`).

    Its config is the config's model turned by
    :func:`openvino_model_cfg` (what
    :func:`upernet_mm.apis.init_model` and ``tools/test.py`` do for an
    artefact).

    Args:
        artefact (str): The artefact directory (or its ``.xml``).
        deploy (str, optional): Expected precision (``--deploy``); another
            precision in the artefact is an error.
        num_threads (int, optional): OpenVINO threads; default
            ``torch.get_num_threads()``.
        **kwargs: Arguments of ``UPerEncoderDecoder`` (the config's model).
    """

    def __init__(self,
                 artefact: str,
                 deploy: Optional[str] = None,
                 num_threads: Optional[int] = None,
                 **kwargs):
        runtime = load_openvino(artefact, deploy, num_threads)
        super().__init__(runtime=runtime, **kwargs)
        if runtime.num_classes != self.decode_head.num_classes:
            raise ArtefactError(
                f'OpenVINO artefact {runtime.info["dir"]} predicts '
                f'{runtime.num_classes} classes, the config\'s decode head '
                f'{self.decode_head.num_classes}: wrong config?')
        self.artefact = runtime.info['dir']
        self.precision = runtime.precision
