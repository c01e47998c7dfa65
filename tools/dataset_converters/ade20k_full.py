"""Convert the full ADE20K release (objects, parts, scenes) into a source
folder of the unified parsing layout (docs/unified_parsing.md).

Reads every image's .jpg, _seg.png, _parts_1.png and .json as published
(never the pickled index); writes SOURCE/ with the tasks object, part and
scene, and SOURCE/metainfo.json with the class lists it used, to give to
the dataset (metainfo) and to tools/analysis_tools/check_unified_parsing.py
--metainfo. Default classes: the 150 of ADE20K's scene parsing benchmark
(matched by their WordNet names), the parts annotated on them in the
training images, and the training images' scenes.

Example:
    python tools/dataset_converters/ade20k_full.py data/ADE20K_2021_17_01 \\
        --out data/broden_plus/ade20k
    python tools/analysis_tools/check_unified_parsing.py data/broden_plus \\
        --metainfo data/broden_plus/ade20k/metainfo.json
"""
import sys

from upernet_mm.cli_args import (add_min_part_images_arg,
                                 add_source_converter_args, convert_or_exit,
                                 read_classes_arg, tool_parser)
from upernet_mm.datasets.converters.ade20k_full import convert_ade20k_full


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_source_converter_args(
        parser,
        root_help='the ADE20K release folder (holding images/ADE/training)',
        classes_help='JSON file with the class lists to use instead of the '
        'defaults: "objects" (class name -> WordNet name or list of names '
        'of the full release), "part_classes" (object -> part names), '
        '"scene_classes" (list); e.g. the metainfo.json of a training '
        'conversion for its "part_classes" and "scene_classes"')
    add_min_part_images_arg(parser)
    parser.add_argument(
        '--min-scene-images',
        type=int,
        default=1,
        help='default scene list: scenes of at least this many training '
        'images (default: %(default)s)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    given = read_classes_arg(args)
    result = convert_or_exit(
        convert_ade20k_full,
        args.root,
        args.out,
        object_names=given.get('objects'),
        part_classes=given.get('part_classes'),
        scene_classes=given.get('scene_classes'),
        min_part_images=args.min_part_images,
        min_scene_images=args.min_scene_images)
    meta = result['metainfo']
    print(f'wrote {args.out}: {len(meta["classes"])} object classes, '
          f'{len(meta["part_classes"])} with parts, '
          f'{len(meta["scene_classes"])} scenes; metainfo: '
          f'{args.out}/metainfo.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
