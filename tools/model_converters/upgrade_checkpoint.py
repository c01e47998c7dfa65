"""Rewrite a checkpoint so that it loads with ``torch.load(weights_only=True)``.

Checkpoints written by plain mmengine hold pickled Python objects (the message
hub's history buffers, numpy arrays). Loading them means trusting the file,
because unpickling can run code. Run this once on a file you trust; the copy
it writes resumes with upernet_mm without any opt-in.

Example:
    python tools/model_converters/upgrade_checkpoint.py work_dirs/old/iter_8000.pth \
        work_dirs/old/iter_8000_safe.pth --trust
"""
import argparse
import os
import os.path as osp
import sys

import torch


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='checkpoint to read')
    parser.add_argument('dst', help='checkpoint to write')
    parser.add_argument(
        '--trust',
        action='store_true',
        help='unpickle SRC fully (only for a file you trust); without it, '
        'SRC must already load with weights_only=True')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from upernet_mm.engine import (UnsafeCheckpointError,
                                   load_from_local, to_weights_only,
                                   trust_checkpoint)
    if args.trust:
        trust_checkpoint(args.src)
    try:
        checkpoint = load_from_local(args.src, map_location='cpu')
    except UnsafeCheckpointError as error:
        sys.exit(f'error: {error}')
    unsupported = []
    checkpoint = to_weights_only(checkpoint, unsupported=unsupported)
    if unsupported:
        where = ', '.join(f'{p} ({t})' for p, t in unsupported)
        sys.exit(f'error: {args.src} holds values that are not plain data '
                 f'and cannot be made weights-only: {where}')
    tmp = f'{args.dst}.tmp'
    torch.save(checkpoint, tmp)
    torch.load(tmp, map_location='cpu', weights_only=True)  # verify
    os.replace(tmp, args.dst)
    print(f'wrote {osp.abspath(args.dst)} (loads with weights_only=True)')


if __name__ == '__main__':
    main()
