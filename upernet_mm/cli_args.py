"""Command-line options that several tools share, defined once so that each
flag means the same in every tool:

* ``--cfg-options KEY=VALUE ...``: mmengine's ``DictAction`` syntax, merged
  into the config with ``Config.merge_from_dict``;
* ``--trust-checkpoint SHA256`` (repeatable): allow full unpickling of the
  checkpoint file with that content hash, and of no other file.
"""
import argparse

from mmengine.config import DictAction

from upernet_mm.safe_io import trust_checkpoint
from upernet_mm.safe_io.checkpoint_loading import parse_sha256

CFG_OPTIONS_HELP = (
    'override config settings, key=value pairs such as '
    'train_cfg.max_iters=100 or model.decode_head.channels=128; lists as '
    'key="[a,b]" (quotes needed, no spaces)')
TRUST_HELP = (
    'SHA-256 of a checkpoint file you trust (`sha256sum FILE`; a refused '
    'file\'s error message prints it): that file, and no other, may be '
    'fully unpickled (checkpoints are otherwise loaded with '
    'weights_only=True). Repeatable')


def add_cfg_options_arg(parser) -> None:
    """Add ``--cfg-options`` (mmengine's ``DictAction``) to a parser."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help=CFG_OPTIONS_HELP)


def _sha256(value: str) -> str:
    try:
        return parse_sha256(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_trust_arg(parser) -> None:
    """Add ``--trust-checkpoint SHA256`` (repeatable) to a parser."""
    parser.add_argument(
        '--trust-checkpoint',
        metavar='SHA256',
        type=_sha256,
        action='append',
        default=[],
        help=TRUST_HELP)


def apply_trust(args) -> None:
    """Trust the SHA-256 digests given with ``--trust-checkpoint``.

    Raises:
        ValueError: If a value is not a SHA-256 (e.g. a path).
    """
    for digest in getattr(args, 'trust_checkpoint', None) or []:
        trust_checkpoint(digest)


def merge_cfg_options(cfg, args) -> None:
    """Merge ``--cfg-options`` into ``cfg`` (in place), if given."""
    options = getattr(args, 'cfg_options', None)
    if options:
        cfg.merge_from_dict(options)


def add_generation_args(parser, default_out) -> None:
    """Add ``--out``, ``--seed`` and ``--size``, the settings every tool
    that generates an embedded dataset takes."""
    parser.add_argument(
        '--out',
        default=default_out,
        help='folder to create (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='default: 0')
    parser.add_argument(
        '--size',
        type=int,
        default=128,
        help='image height and width, >= 64 (default: 128)')
