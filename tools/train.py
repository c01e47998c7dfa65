"""Train a segmentor with mmengine's Runner.

Example:
    python tools/train.py configs/upernet_convnext.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume
    tools/dist_train.sh CONFIG 2          # 2 processes (gloo without CUDA)
"""
import sys

from upernet_mm.cli_args import add_train_args, load_config, tool_parser
from upernet_mm.engine.amp import configure_amp
from upernet_mm.engine.data_startup_check import check_data
from upernet_mm.engine.runner_setup import build_runner


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_train_args(parser)
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
