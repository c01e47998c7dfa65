"""Generate the SyntheticScenes dataset (ADE20K layout) into a folder.

The datasets of configs/_base_/datasets/synthetic_scenes.py generate it on
first use as well; this tool does it ahead of time or with other settings.
An existing folder is never written over: a complete one with the same
settings is left as it is, anything else is an error.

Example:
    python tools/dataset_converters/make_synthetic_scenes.py --out data/synthetic_scenes
    python tools/dataset_converters/make_synthetic_scenes.py --out data/ss_seed1 --seed 1 \
        --num-train 800 --num-val 200 --size 160
    python tools/dataset_converters/make_synthetic_scenes.py \
        --out data/synthetic_scenes_far256 --size 256 --far-context
"""
import argparse
import os
import os.path as osp
import sys
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--out',
        default='data/synthetic_scenes',
        help='folder to create (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='default: 0')
    parser.add_argument(
        '--num-train', type=int, default=400, help='default: 400')
    parser.add_argument(
        '--num-val', type=int, default=100, help='default: 100')
    parser.add_argument(
        '--size',
        type=int,
        default=128,
        help='image height and width, >= 64 (default: 128)')
    parser.add_argument(
        '--far-context',
        action='store_true',
        help='the ablation scale\'s scenes: building/wall and window/'
        'painting told apart only by the kind of scene (see '
        'docs/embedded_datasets.md)')
    return parser.parse_args(argv)


def _disk_usage(root):
    total = 0
    for folder, _, files in os.walk(root):
        total += sum(osp.getsize(osp.join(folder, f)) for f in files)
    return total


def main(argv=None):
    args = parse_args(argv)
    from upernet_mm.datasets.synthetic_scenes_folder import (
        SyntheticScenesFolderError, check_generator_cfg,
        check_synthetic_scenes, write_synthetic_scenes)
    try:
        cfg = check_generator_cfg(
            dict(seed=args.seed, num_train=args.num_train,
                 num_val=args.num_val, size=args.size,
                 far_context=args.far_context))
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    start = time.perf_counter()
    try:
        write_synthetic_scenes(args.out, **cfg)
    except FileExistsError:
        try:
            manifest = check_synthetic_scenes(args.out)
        except SyntheticScenesFolderError as e:
            raise SystemExit(f'error: {e}')
        if manifest.get('generator') != cfg:
            raise SystemExit(
                f'error: {args.out} already holds SyntheticScenes generated '
                f'with {manifest.get("generator")}, not {cfg}; remove it '
                'first or choose another --out')
        print(f'{args.out} already holds SyntheticScenes with {cfg}; left '
              'unchanged')
        return 0
    except NotADirectoryError as e:
        raise SystemExit(f'error: {e}')
    seconds = time.perf_counter() - start
    size_mb = _disk_usage(args.out) / 2**20
    print(f'wrote SyntheticScenes to {args.out}: {cfg["num_train"]} '
          f'training and {cfg["num_val"]} validation scenes of '
          f'{cfg["size"]}x{cfg["size"]}, seed {cfg["seed"]}, '
          f'{size_mb:.1f} MB in {seconds:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
