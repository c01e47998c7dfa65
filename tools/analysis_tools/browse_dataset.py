"""Save training samples as they leave the data pipeline, each beside its
label map drawn over it, to check augmentations.

Example:
    python tools/analysis_tools/browse_dataset.py configs/upernet_convnext.py \\
        --out-dir browse -n 16

Writes OUT_DIR/NNNN_NAME.png: the pipeline's image (after resizing,
cropping, flipping and photometric changes) on the left and the same image
with the class colours of its labels on the right (label 255, the padding,
stays uncoloured).
"""
import argparse
import os
import os.path as osp
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]))
    from mmengine.config import DictAction
    parser.add_argument('config', help='config file')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '-n', type=int, default=8, help='number of samples (default 8)')
    parser.add_argument(
        '--split',
        choices=['train', 'val', 'test'],
        default='train',
        help='which dataloader\'s dataset and pipeline (default train)')
    parser.add_argument(
        '--opacity', type=float, default=0.5, help='weight of the colours')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the augmentations')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f'-n must be >= 1, got {args.n}')
    if not 0 < args.opacity <= 1:
        parser.error(f'--opacity must be in (0, 1], got {args.opacity}')
    return args


def to_image(inputs):
    """A packed ``inputs`` tensor (C, H, W, BGR) as an RGB uint8 array."""
    import numpy as np
    img = inputs.permute(1, 2, 0).cpu().numpy()
    return np.clip(img, 0, 255).astype(np.uint8)[..., ::-1]


def main(argv=None):
    args = parse_args(argv)
    import mmcv
    import numpy as np
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import set_random_seed
    from mmseg.visualization import SegLocalVisualizer

    from upernet_mm.registry import DATASETS
    from upernet_mm.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    key = f'{args.split}_dataloader'
    if key not in cfg:
        sys.exit(f'error: {args.config} has no {key}')
    set_random_seed(args.seed)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'upernet_mm')):
        dataset = DATASETS.build(cfg[key].dataset)
    if len(dataset) == 0:
        sys.exit(f'error: the {args.split} dataset of {args.config} is empty')
    visualizer = SegLocalVisualizer(
        name='upernet_mm.browse_dataset', alpha=args.opacity)
    visualizer.dataset_meta = dict(
        classes=dataset.metainfo['classes'],
        palette=dataset.metainfo['palette'])
    os.makedirs(args.out_dir, exist_ok=True)
    count = min(args.n, len(dataset))
    for index in range(count):
        item = dataset[index]
        sample = item['data_samples']
        image = to_image(item['inputs'])
        visualizer.add_datasample(
            'sample', image, sample.cpu(), draw_gt=True, draw_pred=False,
            with_labels=False)
        drawn = np.concatenate([image, visualizer.get_image()], axis=1)
        stem = osp.splitext(osp.basename(sample.img_path or 'image'))[0]
        out = osp.join(args.out_dir, f'{index:04d}_{stem}.png')
        mmcv.imwrite(mmcv.rgb2bgr(drawn), out)
    print(f'wrote {count} samples of the {args.split} pipeline to '
          f'{args.out_dir}')


if __name__ == '__main__':
    main()
