"""Convert OpenSurfaces (materials) into a source folder of the unified
parsing layout (docs/unified_parsing.md).

Reads the outputs of OpenSurfaces' release script
(process_opensurfaces_release_0.py): photos.csv, photos/ID.jpg,
photos-labels/ID.png (material in the red channel) and
label-substance-colors.csv; writes SOURCE/ with the task material and
SOURCE/metainfo.json (material_classes).

Example:
    python tools/dataset_converters/opensurfaces.py data/opensurfaces \
        --out data/broden_plus/opensurfaces
"""
import argparse
import sys

from upernet_mm.datasets.converters.opensurfaces import convert_opensurfaces
from upernet_mm.datasets.unified_parsing_layout import (
    UnifiedParsingDataError, read_metainfo_file)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='folder of the release script outputs')
    parser.add_argument(
        '--out',
        required=True,
        help='source folder to create (missing or empty)')
    parser.add_argument(
        '--classes',
        help='JSON file with "material_classes" (names as normalised from '
        'label-substance-colors.csv) instead of every substance')
    parser.add_argument(
        '--val-every',
        type=int,
        default=10,
        help='every N-th photo (by id) goes to validation; 0: none '
        '(default: %(default)s)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        given = read_metainfo_file(args.classes) if args.classes else {}
        result = convert_opensurfaces(
            args.root,
            args.out,
            material_classes=given.get('material_classes'),
            val_every=args.val_every)
    except (UnifiedParsingDataError, FileExistsError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    print(f'wrote {args.out}: '
          f'{len(result["metainfo"]["material_classes"])} materials, '
          f'{result["counts"]} images')
    return 0


if __name__ == '__main__':
    sys.exit(main())
