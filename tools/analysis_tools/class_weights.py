"""Compute class frequencies and class weights from a config's dataset.

Example:
    python tools/analysis_tools/class_weights.py CONFIG
    python tools/analysis_tools/class_weights.py CONFIG --method enet
    python tools/analysis_tools/class_weights.py CONFIG --method sqrt-median

Reads every label map of the train dataloader's dataset (--split for
another) through the pipeline's LoadAnnotations only (no random crop or
flip), counts the pixels of each class and prints a table with
median-frequency weights (SegNet: median(freq) / freq(c), freq(c) = pixels
of c / labelled pixels of the images where c is present), their square
roots (a milder spread) and ENet's weights (1 / ln(1.02 + p(c)), p(c) =
share of c in all labelled pixels), then the line to paste into the loss
config. Pixels with the ignore index
(the decode head's, 255 if unset) count for nothing.
"""
import sys

from mmengine.config import Config
from mmengine.utils import ProgressBar
from prettytable import PrettyTable

from upernet_mm.apis.config_dataset import (build_split_dataset,
                                            config_ignore_index)
from upernet_mm.cli_args import (add_cfg_options_arg, add_split_arg,
                                 merge_cfg_options, tool_parser)
from upernet_mm.datasets.class_frequencies import (
    LabelCountError, class_weight_line, count_classes, enet_weights,
    median_frequency_weights, num_samples, sqrt_median_frequency_weights,
    weights_table)
from upernet_mm.utils import register_all_modules

# --method: (the table's column, the weights)
METHODS = {
    'median': ('median freq', median_frequency_weights),
    'sqrt-median': ('sqrt median freq', sqrt_median_frequency_weights),
    'enet': ('ENet', enet_weights),
}


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='config file')
    add_split_arg(parser, 'whose dataloader\'s dataset')
    parser.add_argument(
        '--method',
        choices=sorted(METHODS),
        default='median',
        help='which weights the config line gives (default median: '
        'median frequency balancing; sqrt-median: its square roots)')
    parser.add_argument(
        '--decimals',
        type=int,
        default=4,
        help='decimals in the config line (default 4)')
    add_cfg_options_arg(parser)
    args = parser.parse_args(argv)
    if not 0 <= args.decimals <= 10:
        parser.error(f'--decimals must be in 0..10, got {args.decimals}')
    return args


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args)
    try:
        ignore_index = config_ignore_index(cfg)
        dataset = build_split_dataset(cfg, args.split)
    except ValueError as error:
        sys.exit(f'error: {args.config}: {error}')
    total = num_samples(dataset)
    if total == 0:
        sys.exit(f'error: the {args.split} dataset of {args.config} is '
                 'empty')
    bar = ProgressBar(total)
    try:
        counts = count_classes(dataset, ignore_index, progress=bar.update)
    except LabelCountError as error:
        sys.exit(f'\nerror: {error}')
    columns = {column: weigh(counts) for column, weigh in METHODS.values()}
    rows = weights_table(counts, columns)
    table = PrettyTable(rows[0])
    for row in rows[1:]:
        table.add_row(row)
    print(f'\n{counts.num_images} label maps of the {args.split} dataset, '
          f'{counts.labelled} labelled pixels, {counts.ignored} with the '
          f'ignore index {ignore_index}')
    print(table.get_string())
    absent = [name for name, n in zip(counts.classes, counts.images) if n == 0]
    if absent:
        print(f'warning: no pixel of {", ".join(map(str, absent))}; their '
              'median-frequency weight is 0')
    print(class_weight_line(columns[METHODS[args.method][0]], args.decimals))
    return 0


if __name__ == '__main__':
    sys.exit(main())
