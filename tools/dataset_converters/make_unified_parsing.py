"""Generate the embedded Unified Perceptual Parsing data (three sources:
scenes, materials, textures) into a folder.

The datasets of configs/_base_/datasets/unified_parsing.py generate it on
first use as well; this tool does it ahead of time or with other settings.
An existing folder is never written over: a complete one with the same
settings is left as it is, anything else is an error.

Example:
    python tools/dataset_converters/make_unified_parsing.py --out data/unified_parsing
    python tools/dataset_converters/make_unified_parsing.py --out data/up_seed1 --seed 1 \
        --num-train scenes=800 materials=600 --size 160
"""
import argparse
import os
import os.path as osp
import sys
import time

from upernet_mm.datasets.unified_parsing_folder import (
    EMBEDDED_SOURCES, MANIFEST, UnifiedParsingFolderError,
    check_generated_folder, check_generator_cfg, write_unified_parsing)


def _counts(text):
    name, sep, value = text.partition('=')
    if not sep or name not in EMBEDDED_SOURCES:
        raise argparse.ArgumentTypeError(
            f'expected SOURCE=NUMBER with SOURCE one of '
            f'{list(EMBEDDED_SOURCES)}, got {text!r}')
    try:
        return name, int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r}: {value!r} is not an integer') from None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--out',
        default='data/unified_parsing',
        help='folder to create (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='default: 0')
    parser.add_argument(
        '--size',
        type=int,
        default=128,
        help='image height and width, >= 64 (default: 128)')
    parser.add_argument(
        '--num-train',
        type=_counts,
        nargs='+',
        default=[],
        metavar='SOURCE=N',
        help='training images per source (defaults: scenes=400 '
        'materials=300 textures=180)')
    parser.add_argument(
        '--num-val',
        type=_counts,
        nargs='+',
        default=[],
        metavar='SOURCE=N',
        help='validation images per source (defaults: scenes=100 '
        'materials=60 textures=45)')
    return parser.parse_args(argv)


def _disk_usage(root):
    total = 0
    for folder, _, files in os.walk(root):
        total += sum(osp.getsize(osp.join(folder, f)) for f in files)
    return total


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = check_generator_cfg(
            dict(seed=args.seed, size=args.size,
                 num_train=dict(args.num_train), num_val=dict(args.num_val)))
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    start = time.perf_counter()
    try:
        write_unified_parsing(args.out, cfg)
    except FileExistsError:
        if not osp.isfile(osp.join(args.out, MANIFEST)):
            raise SystemExit(f'error: {args.out} exists, is not empty and '
                             f'has no {MANIFEST}: it is not generated data; '
                             'choose another --out')
        try:
            manifest = check_generated_folder(args.out)
        except UnifiedParsingFolderError as e:
            raise SystemExit(f'error: {e}')
        if manifest.get('generator') != cfg:
            raise SystemExit(
                f'error: {args.out} already holds unified parsing data '
                f'generated with {manifest.get("generator")}, not {cfg}; '
                'remove it first or choose another --out')
        print(f'{args.out} already holds unified parsing data with {cfg}; '
              'left unchanged')
        return 0
    except NotADirectoryError as e:
        raise SystemExit(f'error: {e}')
    seconds = time.perf_counter() - start
    size_mb = _disk_usage(args.out) / 2**20
    counts = ', '.join(
        f'{name} {cfg["num_train"][name]}+{cfg["num_val"][name]}'
        for name in EMBEDDED_SOURCES)
    print(f'wrote unified parsing data to {args.out}: {counts} '
          f'(training+validation) images of {cfg["size"]}x{cfg["size"]}, '
          f'seed {cfg["seed"]}, {size_mb:.1f} MB in {seconds:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
