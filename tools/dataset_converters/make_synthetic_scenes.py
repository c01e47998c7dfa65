"""Generate the SyntheticScenes dataset (ADE20K layout) into a folder.

The datasets of configs/_base_/datasets/synthetic_scenes.py generate it on
first use as well; this tool does it ahead of time or with other settings.
An existing folder is never written over: a complete one with the same
settings is left as it is, anything else is an error.

Example:
    python tools/dataset_converters/make_synthetic_scenes.py \
        --out data/synthetic_scenes
    python tools/dataset_converters/make_synthetic_scenes.py \
        --out data/ss_seed1 --seed 1 --num-train 800 --num-val 200 --size 160
    python tools/dataset_converters/make_synthetic_scenes.py \
        --out data/synthetic_scenes_far256 --size 256 --far-context
"""
import sys
import time
from functools import partial

from upernet_mm.cli_args import add_generation_args, tool_parser
from upernet_mm.datasets.generated_folder import disk_usage, write_or_reuse
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
    start = time.perf_counter()
    try:
        cfg = check_generator_cfg(
            dict(
                seed=args.seed,
                num_train=args.num_train,
                num_val=args.num_val,
                size=args.size,
                far_context=args.far_context))
        written = write_or_reuse(args.out, cfg,
                                 partial(write_synthetic_scenes,
                                         **cfg), check_synthetic_scenes,
                                 MANIFEST, 'SyntheticScenes')
    except (ValueError, OSError, SyntheticScenesFolderError) as e:
        sys.exit(f'error: {e}')
    if not written:
        print(f'{args.out} already holds SyntheticScenes with {cfg}; left '
              'unchanged')
        return 0
    seconds = time.perf_counter() - start
    size_mb = disk_usage(args.out) / 2**20
    print(f'wrote SyntheticScenes to {args.out}: {cfg["num_train"]} '
          f'training and {cfg["num_val"]} validation scenes of '
          f'{cfg["size"]}x{cfg["size"]}, seed {cfg["seed"]}, '
          f'{size_mb:.1f} MB in {seconds:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
