"""Generate the SyntheticScenes dataset (ADE20K layout) into a folder.

The datasets of configs/_base_/datasets/synthetic_scenes.py generate it on
first use as well; this tool does it ahead of time or with other settings.
An existing folder is never written over: a complete one with the same
settings is left as it is, anything else is an error.

Example:
    python tools/dataset_converters/make_synthetic_scenes.py \\
        --out data/synthetic_scenes
    python tools/dataset_converters/make_synthetic_scenes.py \\
        --out data/ss_seed1 --seed 1 --num-train 800 --num-val 200 --size 160
    python tools/dataset_converters/make_synthetic_scenes.py \\
        --out data/synthetic_scenes_far256 --size 256 --far-context
"""
import sys

from upernet_mm.cli_args import (add_generation_args, generate_dataset,
                                 tool_parser)
from upernet_mm.datasets.synthetic_scenes_folder import (
    MANIFEST, SyntheticScenesFolderError, check_generator_cfg,
    check_synthetic_scenes, write_synthetic_scenes)


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_generation_args(parser, 'data/synthetic_scenes')
    parser.add_argument(
        '--num-train', type=int, default=400, help='default: 400')
    parser.add_argument(
        '--num-val', type=int, default=100, help='default: 100')
    parser.add_argument(
        '--far-context',
        action='store_true',
        help='the ablation scale\'s scenes: building/wall and window/'
        'painting told apart only by the kind of scene (see '
        'docs/embedded_datasets.md)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg, made = generate_dataset(
        args.out, check_generator_cfg,
        dict(
            seed=args.seed,
            num_train=args.num_train,
            num_val=args.num_val,
            size=args.size,
            far_context=args.far_context),
        lambda root, cfg: write_synthetic_scenes(root, **cfg),
        check_synthetic_scenes, MANIFEST, 'SyntheticScenes',
        (SyntheticScenesFolderError, ))
    if made:
        print(f'wrote SyntheticScenes to {args.out}: {cfg["num_train"]} '
              f'training and {cfg["num_val"]} validation scenes of '
              f'{cfg["size"]}x{cfg["size"]}, seed {cfg["seed"]}, {made}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
