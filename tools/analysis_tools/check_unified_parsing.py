"""Check data written in the unified parsing layout (docs/unified_parsing.md)
before training on it: every source's source.json, that every task a
source claims has its labels for every image, and (unless --quick) every
image and label map decoded, sizes compared and label values checked.

Prints, per split, each source's tasks and number of images; exits with an
error naming the file and the value at fault. Class lists are those of
upernet_mm/datasets/unified_parsing_classes.py, or those of a JSON file given
with --metainfo (keys classes, part_classes, material_classes,
scene_classes, texture_classes; missing keys keep ours), such as the
metainfo.json that the dataset converters write. Label maps may be 8-bit or
16-bit PNGs; --ignore-index 65535 for data with more than 255 classes of a
level.

Example:
    python tools/analysis_tools/check_unified_parsing.py data/unified_parsing
    python tools/analysis_tools/check_unified_parsing.py data/my_broden --quick
"""
import sys

from upernet_mm.cli_args import tool_parser
from upernet_mm.datasets.unified_parsing import UnifiedParsingDataset
from upernet_mm.datasets.unified_parsing_check import \
    check_unified_parsing_samples
from upernet_mm.datasets.unified_parsing_embedded import \
    UnifiedParsingFolderError
from upernet_mm.datasets.unified_parsing_layout import (
    SPLITS, UnifiedParsingDataError, read_metainfo_file)


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('data_root', help='folder with one folder per source')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=list(SPLITS),
        help='split folders to check (default: %(default)s)')
    parser.add_argument(
        '--metainfo',
        help='JSON file with the class lists of your data (as the '
        "dataset's metainfo)")
    parser.add_argument(
        '--ignore-index',
        type=int,
        default=255,
        help='the dataset\'s ignore_index (default: %(default)s; 65535 for '
        'more than 255 classes of a level)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='only check that the files exist and the image-level labels '
        '(no decoding)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    metainfo = None
    if args.metainfo:
        try:
            metainfo = read_metainfo_file(args.metainfo)
        except UnifiedParsingDataError as e:
            sys.exit(f'error: --metainfo: {e}')
    found = False
    for split in args.splits:
        try:
            dataset = UnifiedParsingDataset(
                data_root=args.data_root,
                split=split,
                generate_if_missing=False,
                metainfo=metainfo,
                ignore_index=args.ignore_index,
                serialize_data=False)
        except UnifiedParsingDataError as e:
            if 'has images in' in str(e):  # the split does not exist
                print(f'{split}: no images')
                continue
            sys.exit(f'error: {e}')
        except (UnifiedParsingFolderError, ValueError, TypeError) as e:
            sys.exit(f'error: {e}')
        found = True
        tasks = dataset.source_tasks()
        sizes = {
            name: len(idx)
            for name, idx in dataset.source_indices().items()
        }
        if not args.quick:
            try:
                check_unified_parsing_samples(dataset)
            except UnifiedParsingDataError as e:
                sys.exit(f'error: {e}')
        what = 'files exist' if args.quick else 'decoded and checked'
        for name in tasks:
            print(f'{split}: {name}: {sizes[name]} images, tasks '
                  f'{", ".join(tasks[name])} ({what})')
    if not found:
        sys.exit(f'error: no split of {args.splits} has images in '
                 f'{args.data_root}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
