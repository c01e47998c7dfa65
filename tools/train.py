"""Train a segmentor with mmengine's Runner.

Example:
    python tools/train.py configs/upernet_convnext.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume
    tools/dist_train.sh CONFIG 2          # 2 processes (gloo without CUDA)
"""
import sys

from upernet_mm.cli_args import add_runner_args, load_config, tool_parser
from upernet_mm.engine.amp import configure_amp
from upernet_mm.engine.data_startup_check import check_data
from upernet_mm.engine.runner_setup import build_runner


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: float16 with loss scaling on CUDA, '
        'bfloat16 autocast on a CPU-only machine')
    parser.add_argument(
        '--check-data',
        action='store_true',
        help='before training, decode every image and annotation of the '
        'train and val sets and check sizes and label values (folders, '
        'empty splits and num_classes are always checked)')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    try:
        configure_amp(cfg, args.amp)
    except ValueError as error:
        sys.exit(f'error: {error}')
    cfg.resume = args.resume
    check_data(cfg, check_files=args.check_data)
    build_runner(cfg).train()


if __name__ == '__main__':
    sys.exit(main())
