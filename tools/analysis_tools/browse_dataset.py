"""Save training samples as they leave the data pipeline, each beside its
label map drawn over it, to check augmentations.

Example:
    python tools/analysis_tools/browse_dataset.py \\
        configs/upernet_convnext.py --out-dir browse -n 16

Writes OUT_DIR/NNNN_NAME.png: the pipeline's image (after resizing,
cropping, flipping and photometric changes) on the left and the same image
with the class colours of its labels on the right (label 255, the padding,
stays uncoloured). For unified parsing data (PackUnifiedParsingInputs) the
part and material labels get a panel each (parts coloured per object with
the dataset's part_palette), the file name starts with the source, and the
scene and texture labels are printed.
"""
import os
import os.path as osp
import sys

import cv2
import mmcv
import numpy as np
from mmengine.runner import set_random_seed
from mmseg.visualization import SegLocalVisualizer

from upernet_mm.apis import draw_label_levels
from upernet_mm.cli_args import add_dataset_args, load_dataset, tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_dataset_args(parser, 'which dataloader\'s dataset and pipeline')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '-n', type=int, default=8, help='number of samples (default 8)')
    parser.add_argument(
        '--opacity', type=float, default=0.5, help='weight of the colours')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the augmentations')
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f'-n must be >= 1, got {args.n}')
    if not 0 < args.opacity <= 1:
        parser.error(f'--opacity must be in (0, 1], got {args.opacity}')
    return args


def to_image(inputs):
    """A packed ``inputs`` tensor (C, H, W, BGR) as an RGB uint8 array."""
    img = inputs.permute(1, 2, 0).cpu().numpy()
    return np.clip(img, 0, 255).astype(np.uint8)[..., ::-1]


def at_image_size(labels, image):
    """``labels`` resized (nearest) to ``image``'s height and width."""
    if labels.shape == image.shape[:2]:
        return labels
    return cv2.resize(  # e.g. val: labels at the input's size
        labels.astype(np.float32), (image.shape[1], image.shape[0]),
        interpolation=cv2.INTER_NEAREST).astype(np.int64)


def level_panels(image, sample, meta, opacity):
    """Part and material panels of a unified parsing sample."""
    drawn = draw_label_levels(
        dict(meta, material_palette=meta.get('material_palette', [])),
        image,
        *(at_image_size(sample.get(key).data[0].numpy(), image)
          for key in ('gt_sem_seg', 'gt_part_seg', 'gt_material_seg')),
        opacity=opacity)
    return [drawn['part'], drawn['material']]


def describe_labels(sample, meta):
    """The scene and texture labels of a unified parsing sample, by name."""
    words = []
    for key, classes in (('scene_label', 'scene_classes'),
                         ('texture_label', 'texture_classes')):
        label = sample.metainfo.get(key, -1)
        if label is not None and label >= 0:
            words.append(f'{key[:-6]} {meta[classes][label]}')
    return ', '.join(words) or 'no image-level label'


def main(argv=None):
    args = parse_args(argv)
    set_random_seed(args.seed)
    _, dataset = load_dataset(args)
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
            'sample',
            image,
            sample.cpu(),
            draw_gt=True,
            draw_pred=False,
            with_labels=False)
        panels = [image, visualizer.get_image()]
        stem = osp.splitext(osp.basename(sample.img_path or 'image'))[0]
        if 'gt_part_seg' in sample and 'gt_material_seg' in sample:
            panels += level_panels(image, sample.cpu(), dataset.metainfo,
                                   args.opacity)
            source = sample.metainfo.get('source', 'data')
            stem = f'{source}_{stem}'
            print(f'{index:04d}_{stem}: '
                  f'{describe_labels(sample, dataset.metainfo)}')
        drawn = np.concatenate(panels, axis=1)
        out = osp.join(args.out_dir, f'{index:04d}_{stem}.png')
        mmcv.imwrite(mmcv.rgb2bgr(drawn), out)
    print(f'wrote {count} samples of the {args.split} pipeline to '
          f'{args.out_dir}')


if __name__ == '__main__':
    sys.exit(main())
