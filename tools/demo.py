"""Serve a local web page to segment images with a trained model.

Examples:
    python tools/demo.py configs/upernet_convnext.py \\
        work_dirs/upernet_convnext/iter_1500.pth
    # a transformers UperNet directory, converted on the fly
    python tools/demo.py HF_DIR HF_DIR --port 8000

Open the printed address in a browser, drop or pick an image (the first
SyntheticScenes validation scenes are offered as examples) and look at the
overlay (opacity slider), the legend of the classes present with their
pixel shares, and the class under the pointer. The server listens on
127.0.0.1 (this machine only) unless --host says otherwise, loads nothing
from the network and writes no file. Ctrl-C stops it.
"""
import os.path as osp
import sys

from upernet_mm.cli_args import add_model_args, load_model, tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_model_args(parser)
    parser.add_argument(
        '--host',
        default='127.0.0.1',
        help='address to listen on (default: 127.0.0.1, this machine only; '
        '0.0.0.0 serves every network the machine is on)')
    parser.add_argument(
        '--port',
        type=int,
        default=7860,
        help='port (default: 7860; 0 '
        'picks a free one)')
    parser.add_argument(
        '--device',
        default=None,
        help='e.g. cpu or cuda:0 (default: cuda:0 if available, else cpu)')
    parser.add_argument(
        '--num-examples',
        type=int,
        default=8,
        help='SyntheticScenes validation scenes offered as examples '
        '(default: 8)')
    parser.add_argument(
        '--verbose', action='store_true', help='log every request')
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f'--port must be in 0..65535, got {args.port}')
    if args.num_examples < 0:
        parser.error(f'--num-examples must be >= 0, got {args.num_examples}')
    return args


def main(argv=None):
    args = parse_args(argv)
    import torch

    from upernet_mm.demo import DemoApp, DemoServer, synthetic_scenes_examples
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    model = load_model(args, device)
    title = osp.basename(osp.normpath(str(args.config)))
    app = DemoApp(model, title, synthetic_scenes_examples(args.num_examples))
    try:
        server = DemoServer(app, args.host, args.port, verbose=args.verbose)
    except OSError as error:
        sys.exit(f'error: cannot listen on {args.host}:{args.port}: {error}')
    print(
        f'demo: serving {title} at {server.url} (Ctrl-C to stop)', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
