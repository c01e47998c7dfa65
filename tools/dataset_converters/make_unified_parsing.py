"""Generate the embedded Unified Perceptual Parsing data (three sources:
scenes, materials, textures) into a folder.

The datasets of configs/_base_/datasets/unified_parsing.py generate it on
first use as well; this tool does it ahead of time or with other settings.
An existing folder is never written over: a complete one with the same
settings is left as it is, anything else is an error.

Example:
    python tools/dataset_converters/make_unified_parsing.py \\
        --out data/unified_parsing
    python tools/dataset_converters/make_unified_parsing.py \\
        --out data/up_seed1 --seed 1 --num-train scenes=800 materials=600 \\
        --size 160
"""
import argparse
import sys

from upernet_mm.cli_args import (add_generation_args, generate_dataset,
                                 tool_parser)
from upernet_mm.datasets.unified_parsing_embedded import (
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
    parser = tool_parser(__doc__)
    add_generation_args(parser, 'data/unified_parsing')
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


def main(argv=None):
    args = parse_args(argv)
    cfg, made = generate_dataset(
        args.out, check_generator_cfg,
        dict(
            seed=args.seed,
            size=args.size,
            num_train=dict(args.num_train),
            num_val=dict(args.num_val)), write_unified_parsing,
        check_generated_folder, MANIFEST, 'unified parsing data',
        (UnifiedParsingFolderError, ))
    if made:
        counts = ', '.join(
            f'{name} {cfg["num_train"][name]}+{cfg["num_val"][name]}'
            for name in EMBEDDED_SOURCES)
        print(f'wrote unified parsing data to {args.out}: {counts} '
              f'(training+validation) images of {cfg["size"]}x{cfg["size"]}, '
              f'seed {cfg["seed"]}, {made}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
