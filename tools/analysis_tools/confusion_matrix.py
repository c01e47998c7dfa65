"""Confusion matrix of a trained model on a config's dataset: which class
the pixels of each class were predicted as.

Example:
    python tools/analysis_tools/confusion_matrix.py \\
        configs/camvid/upernet_convnext-atto_1xb8-3k_camvid-256x256.py \\
        work_dirs/upernet_convnext-atto_1xb8-3k_camvid-256x256/iter_3000.pth \\
        --out work_dirs/camvid_confusion.json

Predicts every image of the val dataloader's dataset (--split for another)
as tools/test.py does (its test pipeline, predictions at the labels'
size), counts (true class, predicted class) over the labelled pixels (the
heads' ignore index, 255 if unset, counts for nothing) and prints each
true class's pixels by predicted class, then what each predicted class is
made of: where a class's IoU goes. --out writes the counts as JSON.
"""
import json
import sys

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.utils import ProgressBar

from upernet_mm.apis.config_dataset import (build_split_dataset,
                                            config_ignore_index)
from upernet_mm.cli_args import (add_model_args, add_split_arg, load_model,
                                 tool_parser)
from upernet_mm.evaluation.confusion import confusion_matrix, format_confusion


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_model_args(parser)
    add_split_arg(parser, 'whose dataloader\'s dataset', default='val')
    parser.add_argument(
        '--top',
        type=int,
        default=3,
        help='true classes listed per predicted class (default 3)')
    parser.add_argument('--out', help='also write the counts here (JSON)')
    args = parser.parse_args(argv)
    if args.top < 1:
        parser.error(f'--top must be >= 1, got {args.top}')
    return args


def main(argv=None):
    args = parse_args(argv)
    model = load_model(args)
    classes = list(model.dataset_meta['classes'])
    try:
        dataset = build_split_dataset(model.cfg, args.split)
        ignore_index = config_ignore_index(model.cfg)
    except ValueError as error:
        sys.exit(f'error: {args.config}: {error}')
    if len(dataset) == 0:
        sys.exit(f'error: the {args.split} dataset of {args.config} is empty')
    matrix = np.zeros((len(classes), len(classes)), np.int64)
    progress = ProgressBar(len(dataset), file=sys.stderr)
    for index in range(len(dataset)):
        with torch.no_grad():
            (result, ) = model.test_step(pseudo_collate([dataset[index]]))
        try:
            matrix += confusion_matrix(
                result.pred_sem_seg.data[0].cpu().numpy(),
                result.gt_sem_seg.data[0].cpu().numpy(), len(classes),
                ignore_index)
        except ValueError as error:
            sys.exit(f'error: {result.img_path}: {error}')
        progress.update()
    sys.stderr.write('\n')
    print(f'{args.split} split of {args.config}: {len(dataset)} images, '
          f'{int(matrix.sum())} labelled pixels')
    print(format_confusion(matrix, classes, args.top))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    config=args.config,
                    checkpoint=args.checkpoint,
                    split=args.split,
                    ignore_index=ignore_index,
                    classes=classes,
                    rows='true class',
                    columns='predicted class',
                    counts=matrix.tolist()),
                f,
                indent=1)
        print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
