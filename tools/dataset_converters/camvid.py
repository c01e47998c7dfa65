"""Convert the original CamVid release into the SegNet layout (11 classes,
480x360, SegNet's train/val/test split) that configs/_base_/datasets/
camvid.py reads.

Example:
    python tools/dataset_converters/camvid.py CamVid_original data/camvid

SRC holds 701_StillsRaw_full/ (960x720 frames), LabeledApproved_full/
(<frame>_L.png, 32-class colour labels) and label_colors.txt. OUT (created;
it must not exist or be empty) gets train/, trainannot/, val/, valannot/,
test/, testannot/ and train.txt, val.txt, test.txt. Labels are 8-bit class
indices 0..10, void 11. See docs/camvid.md.
"""
import sys

from mmengine.utils import ProgressBar

from upernet_mm.cli_args import tool_parser
from upernet_mm.datasets.camvid_conversion import (CamVidConversionError,
                                                   check_release,
                                                   convert_camvid)


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('src', help='folder of the original CamVid release')
    parser.add_argument('out', help='folder to create (SegNet layout)')
    parser.add_argument(
        '--partial',
        action='store_true',
        help='convert the frames present and skip missing ones (a subset '
        'of the release); by default every frame of the split must exist')
    parser.add_argument(
        '--unknown-as-void',
        action='store_true',
        help='make label colours that label_colors.txt does not list void '
        '(they are reported) instead of stopping with an error')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        frames = check_release(args.src, partial=args.partial)
        bar = ProgressBar(2 * sum(len(v) for v in frames.values()))
        summary = convert_camvid(
            args.src,
            args.out,
            partial=args.partial,
            unknown_as_void=args.unknown_as_void,
            progress=bar.update)
    except (CamVidConversionError, FileExistsError) as error:
        sys.exit(f'error: {error}')
    print()
    for path, colours in summary['unknown'].items():
        shown = ', '.join(f'{rgb} ({n} px)'
                          for rgb, n in list(colours.items())[:5])
        print(f'made void in {path}: {sum(colours.values())} pixels of '
              f'{len(colours)} unknown colour(s): {shown}')
    counts = ', '.join(f'{n} {k}' for k, n in summary['frames'].items())
    print(f'wrote the SegNet layout to {args.out}: {counts} frames')
    return 0


if __name__ == '__main__':
    sys.exit(main())
