"""Command-line options of deploy mode, shared by the tools.

``--deploy PRECISION`` means the same in every tool: run the model in its
inference form at that precision. With a PyTorch checkpoint that is
:func:`~upernet_mm.deploy.deploy_segmentor` (``fp32``, ``bf16``); with an
OpenVINO artefact directory in place of the checkpoint it is the artefact,
whose precision must be the one asked (``int8`` exists only as an artefact,
see ``tools/deployment/export_openvino.py``).
"""
from typing import Optional

from .openvino.artefact import PRECISIONS as ARTEFACT_PRECISIONS
from .openvino.artefact import ArtefactError, int8_needs_artefact
from .pytorch.segmentor import PRECISIONS

DEPLOY_CHOICES = tuple(dict.fromkeys(PRECISIONS + ARTEFACT_PRECISIONS))


def add_deploy_args(parser, compile: bool = True) -> None:
    """Add ``--deploy [fp32|bf16|int8]`` and (if ``compile``)
    ``--compile`` to a parser."""
    parser.add_argument(
        '--deploy',
        nargs='?',
        const='fp32',
        choices=DEPLOY_CHOICES,
        help='run the model in deploy form: BatchNorm folded into convs, '
        'channels_last; "bf16" also computes in bfloat16 (default: fp32). '
        'With an OpenVINO artefact directory as the checkpoint, the '
        'artefact\'s precision must be this one; "int8" needs such an '
        'artefact (tools/deployment/export_openvino.py --precision int8)')
    if compile:
        parser.add_argument(
            '--compile',
            action='store_true',
            help='with --deploy, torch.compile the backbone and decode head '
            '(slow first call per input size)')


def deploy_kwargs(args) -> Optional[dict]:
    """Arguments of :func:`deploy_segmentor` from parsed ``args``, or None
    without ``--deploy``.

    Raises:
        ValueError: For ``--compile`` without ``--deploy``, or a precision
            only an OpenVINO artefact has (``int8``).
    """
    if getattr(args, 'deploy', None) is None:
        if getattr(args, 'compile', False):
            raise ValueError('--compile needs --deploy')
        return None
    if args.deploy not in PRECISIONS:
        raise ArtefactError(
            int8_needs_artefact(getattr(args, 'checkpoint', 'the checkpoint')))
    return dict(precision=args.deploy, compile=getattr(args, 'compile', False))
