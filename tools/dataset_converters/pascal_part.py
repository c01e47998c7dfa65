"""Convert Pascal-Part (objects and parts) into a source folder of the
unified parsing layout (docs/unified_parsing.md).

Reads Annotations_Part/NAME.mat (MATLAB v5, data only) and the VOC2010
images; writes SOURCE/ with the tasks object and part and
SOURCE/metainfo.json (classes, part_classes).

Example:
    python tools/dataset_converters/pascal_part.py data/pascal_part \\
        --images data/VOC2010/JPEGImages --out data/broden_plus/pascal_part \\
        --split training=data/VOC2010/ImageSets/Main/train.txt \\
        validation=data/VOC2010/ImageSets/Main/val.txt
"""
import argparse
import sys

from upernet_mm.cli_args import (add_min_part_images_arg,
                                 add_source_converter_args, convert_or_exit,
                                 read_classes_arg, tool_parser)
from upernet_mm.datasets.converters.pascal_part import convert_pascal_part


def _split(text):
    name, sep, path = text.partition('=')
    if not sep or not name or '/' in name:
        raise argparse.ArgumentTypeError(
            f'expected SPLIT=FILE (e.g. training=train.txt), got {text!r}')
    return name, path


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_source_converter_args(
        parser,
        root_help='Pascal-Part folder (holding Annotations_Part)',
        classes_help='JSON file with "objects" (class -> VOC class names) '
        'and/or "part_classes" (object -> part names) instead of the '
        'defaults')
    parser.add_argument(
        '--images',
        required=True,
        help='folder of the images (VOC2010 JPEGImages)')
    parser.add_argument(
        '--split',
        type=_split,
        nargs='+',
        default=[],
        metavar='SPLIT=FILE',
        help='image names of each split (default: all in training)')
    add_min_part_images_arg(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    given = read_classes_arg(args)
    result = convert_or_exit(
        convert_pascal_part,
        args.root,
        args.images,
        args.out,
        split_files=dict(args.split),
        object_names=given.get('objects'),
        part_classes=given.get('part_classes'),
        min_part_images=args.min_part_images)
    meta = result['metainfo']
    print(f'wrote {args.out}: {len(meta["classes"])} object classes, '
          f'{len(meta["part_classes"])} with parts, {result["counts"]} '
          'images')
    return 0


if __name__ == '__main__':
    sys.exit(main())
