"""Command-line options of deploy mode, shared by the tools."""
from typing import Optional

from .segmentor import PRECISIONS


def add_deploy_args(parser) -> None:
    """Add ``--deploy [fp32|bf16]`` and ``--compile`` to a parser."""
    parser.add_argument(
        '--deploy',
        nargs='?',
        const='fp32',
        choices=PRECISIONS,
        help='run the model in deploy form: BatchNorm folded into convs, '
        'channels_last; "bf16" also computes in bfloat16 (default: fp32)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='with --deploy, torch.compile the backbone and decode head '
        '(slow first call per input size)')


def deploy_kwargs(args) -> Optional[dict]:
    """Arguments of :func:`deploy_segmentor` from parsed ``args``, or None
    without ``--deploy``.

    Raises:
        ValueError: For ``--compile`` without ``--deploy``.
    """
    if getattr(args, 'deploy', None) is None:
        if getattr(args, 'compile', False):
            raise ValueError('--compile needs --deploy')
        return None
    return dict(precision=args.deploy, compile=args.compile)
