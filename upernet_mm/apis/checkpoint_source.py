"""What a checkpoint argument is, decided once: a weights file (or URL), a
transformers UperNet directory or an OpenVINO artefact directory.

:func:`checkpoint_source` looks at the path (an OpenVINO artefact's sidecar
is read and checked here, as hostile input, see
:mod:`upernet_mm.deploy.openvino.artefact`), so that
:func:`~upernet_mm.apis.init_model` and ``tools/test.py`` take one path per
kind.
"""
import os.path as osp
from typing import NamedTuple, Optional

from upernet_mm.converters.hf_files import PREFIX as HF_PREFIX
from upernet_mm.deploy.openvino.artefact import (ArtefactError,
                                                 check_deploy_precision,
                                                 int8_needs_artefact,
                                                 is_openvino_artefact,
                                                 read_sidecar)

WEIGHTS = 'weights'
TRANSFORMERS = 'transformers'
OPENVINO = 'openvino'


def is_hf_dir(path) -> bool:
    """Whether ``path`` is a transformers model directory (``hf://DIR`` or a
    directory with ``config.json``)."""
    path = str(path)
    if path.startswith(HF_PREFIX):
        return True
    return osp.isdir(path) and osp.isfile(osp.join(path, 'config.json'))


def hf_dir_path(path) -> str:
    """The directory of ``hf://DIR`` or ``DIR``."""
    path = str(path)
    return path[len(HF_PREFIX):] if path.startswith(HF_PREFIX) else path


class CheckpointSource(NamedTuple):
    """A checkpoint argument and its kind.

    Attributes:
        kind (str): :data:`WEIGHTS` (a file or URL mmengine's checkpoint
            loaders read), :data:`TRANSFORMERS` (a transformers UperNet
            directory) or :data:`OPENVINO` (an OpenVINO artefact).
        path (str): The file or URL; the directory (without ``hf://``); the
            artefact directory.
        artefact (dict, optional): For :data:`OPENVINO`, the checked
            sidecar (see :mod:`upernet_mm.deploy.openvino.artefact`).
    """
    kind: str
    path: str
    artefact: Optional[dict] = None

    @property
    def load_from(self) -> str:
        """What mmengine's ``load_checkpoint`` (or a runner's ``load_from``)
        reads for a :data:`WEIGHTS` or :data:`TRANSFORMERS` source (the
        latter through upernet_mm's ``hf://`` loader)."""
        if self.kind == OPENVINO:
            raise ValueError(f'{self.path} is an OpenVINO artefact, not a '
                             'checkpoint mmengine can load')
        return HF_PREFIX + self.path if self.kind == TRANSFORMERS \
            else self.path


def checkpoint_source(
        checkpoint,
        deploy: Optional[str] = None) -> Optional[CheckpointSource]:
    """The kind of ``checkpoint`` (None for None).

    Args:
        checkpoint (str | Path, optional): A weights file or URL, a
            transformers directory (``DIR`` with ``config.json``, or
            ``hf://DIR``), or an OpenVINO artefact directory or its
            ``.xml``.
        deploy (str, optional): The ``--deploy`` precision: an artefact must
            have it, and ``'int8'`` exists only as an artefact.

    Raises:
        ArtefactError: For a malformed or unsafe artefact, an artefact of
            another precision than ``deploy``, or ``deploy='int8'`` with
            anything but an artefact.
    """
    if is_openvino_artefact(checkpoint):
        artefact = read_sidecar(checkpoint)
        check_deploy_precision(artefact, deploy)
        return CheckpointSource(OPENVINO, artefact['dir'], artefact)
    if deploy == 'int8':
        raise ArtefactError(int8_needs_artefact(checkpoint))
    if checkpoint is None:
        return None
    if is_hf_dir(checkpoint):
        return CheckpointSource(TRANSFORMERS, hf_dir_path(checkpoint))
    return CheckpointSource(WEIGHTS, str(checkpoint))
