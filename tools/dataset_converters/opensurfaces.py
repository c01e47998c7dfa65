"""Convert OpenSurfaces (materials) into a source folder of the unified
parsing layout (docs/unified_parsing.md).

Reads the outputs of OpenSurfaces' release script
(process_opensurfaces_release_0.py): photos.csv, photos/ID.jpg,
photos-labels/ID.png (material in the red channel) and
label-substance-colors.csv; writes SOURCE/ with the task material and
SOURCE/metainfo.json (material_classes).

Example:
    python tools/dataset_converters/opensurfaces.py data/opensurfaces \\
        --out data/broden_plus/opensurfaces
"""
import sys

from upernet_mm.cli_args import (add_source_converter_args, convert_or_exit,
                                 read_classes_arg, tool_parser)
from upernet_mm.datasets.converters.opensurfaces import convert_opensurfaces


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_source_converter_args(
        parser,
        root_help='folder of the release script outputs',
        classes_help='JSON file with "material_classes" (names as '
        'normalised from label-substance-colors.csv) instead of every '
        'substance')
    parser.add_argument(
        '--val-every',
        type=int,
        default=10,
        help='every N-th photo (by id) goes to validation; 0: none '
        '(default: %(default)s)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    given = read_classes_arg(args)
    result = convert_or_exit(
        convert_opensurfaces,
        args.root,
        args.out,
        material_classes=given.get('material_classes'),
        val_every=args.val_every)
    print(f'wrote {args.out}: '
          f'{len(result["metainfo"]["material_classes"])} materials, '
          f'{result["counts"]} images')
    return 0


if __name__ == '__main__':
    sys.exit(main())
