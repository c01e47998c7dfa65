"""Rewrite a checkpoint so that it loads with
``torch.load(weights_only=True)``.

Checkpoints written by plain mmengine hold pickled Python objects (the message
hub's history buffers, numpy arrays). Loading them means trusting the file,
because unpickling can run code. Run this once on a file you trust, naming it
by its content hash; the copy it writes resumes with upernet_mm without any
opt-in.

Example:
    sha256sum work_dirs/old/iter_8000.pth
    python tools/model_converters/upgrade_checkpoint.py \\
        work_dirs/old/iter_8000.pth work_dirs/old/iter_8000_safe.pth \\
        --trust-checkpoint SHA256
"""
import io
import os.path as osp
import sys

import torch

from upernet_mm.cli_args import add_trust_arg, apply_trust, tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('src', help='checkpoint to read')
    parser.add_argument('dst', help='checkpoint to write')
    add_trust_arg(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from upernet_mm.safe_io import (UnsafeCheckpointError, atomic_write,
                                    load_from_local, to_weights_only)
    apply_trust(args)
    try:
        checkpoint = load_from_local(args.src, map_location='cpu')
    except (UnsafeCheckpointError, FileNotFoundError) as error:
        sys.exit(f'error: {error}')
    unsupported = []
    checkpoint = to_weights_only(checkpoint, unsupported=unsupported)
    if unsupported:
        where = ', '.join(f'{p} ({t})' for p, t in unsupported)
        sys.exit(f'error: {args.src} holds values that are not plain data '
                 f'and cannot be made weights-only: {where}')
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    data = buffer.getvalue()
    torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)
    # a unique temporary file, fsynced, renamed over DST, removed on failure
    atomic_write(args.dst, data)
    print(f'wrote {osp.abspath(args.dst)} (loads with weights_only=True)')


if __name__ == '__main__':
    sys.exit(main())
