"""Convert UperNet checkpoints between transformers and upernet_mm.

Examples:
    # transformers directory -> upernet_mm config + checkpoint
    python tools/model_converters/convert_hf.py to-mm \\
        upernet-convnext-tiny/ out/
    # upernet_mm config + checkpoint -> transformers directory
    python tools/model_converters/convert_hf.py to-hf CONFIG CHECKPOINT hf_out/

Backbones: ConvNeXt (mmpretrain), Swin (mmseg) and ResNet (mmseg ``ResNet``
with the 7x7 stem). Nothing is downloaded: HF_DIR is a local directory.
"""
import sys

from upernet_mm.cli_args import (add_cfg_options_arg, add_trust_arg,
                                 apply_trust, tool_parser)


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    sub = parser.add_subparsers(dest='command', required=True)

    mm = sub.add_parser(
        'to-mm',
        help='transformers UperNet directory -> upernet_mm config '
        'and checkpoint')
    mm.add_argument(
        'hf_dir',
        help='directory with config.json and weights '
        '(model.safetensors or pytorch_model.bin)')
    mm.add_argument('out_dir', help='where NAME.py and NAME.pth are written')
    mm.add_argument(
        '--name', help='file name stem (default: the name of '
        'HF_DIR)')
    mm.add_argument(
        '--self-contained',
        action='store_true',
        help='write the config with the base configs merged in, instead of '
        'inheriting them by absolute path')

    hf = sub.add_parser(
        'to-hf',
        help='upernet_mm config and checkpoint -> transformers '
        'directory')
    hf.add_argument('config', help='upernet_mm config file')
    hf.add_argument('checkpoint', help='its checkpoint (.pth)')
    hf.add_argument('out_dir', help='transformers directory to write')
    add_cfg_options_arg(hf)
    add_trust_arg(hf)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from upernet_mm.apis import to_hf, to_mm
    from upernet_mm.converters import ConversionError
    from upernet_mm.safe_io import UnsafeCheckpointError
    try:
        if args.command == 'to-mm':
            config, checkpoint, notes = to_mm(args.hf_dir, args.out_dir,
                                              args.name, args.self_contained)
            written = [config, checkpoint]
        else:
            apply_trust(args)
            out, notes = to_hf(args.config, args.checkpoint, args.out_dir,
                               args.cfg_options)
            written = [out]
    except (ConversionError, FileNotFoundError,
            UnsafeCheckpointError) as error:
        sys.exit(f'error: {error}')
    for note in notes:
        print(f'note: {note}')
    for path in written:
        print(f'wrote {path}')


if __name__ == '__main__':
    sys.exit(main())
