"""Count the parameters and FLOPs of a config's segmentor (mmengine's
analysis tools; one multiply-add counts as one FLOP, as in fvcore and the
papers).

Example:
    python tools/analysis_tools/get_flops.py CONFIG --shape 512 2048   # H W

The forward pass is what inference runs: backbone and decode head on a
(1, 3, H, W) input, without the auxiliary head and the final resize. The
parameter count covers the whole model, with the auxiliary head on its own
line.
"""
import sys

from upernet_mm.cli_args import add_model_args, load_model, tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_model_args(parser, checkpoint=False)
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[512, 512],
        metavar='PX',
        help='input height and width (one value: square); default 512 512')
    parser.add_argument(
        '--max-depth',
        type=int,
        default=2,
        help='depth of the per-module table (default 2)')
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2) or min(args.shape) < 1:
        parser.error(f'--shape takes H W (or one size), got {args.shape}')
    if len(args.shape) == 1:
        args.shape = args.shape * 2
    return args


def complexity(model, shape, max_depth=2):
    """Parameters and FLOPs of ``model`` on a (1, 3, H, W) input.

    Args:
        model (nn.Module): A segmentor in eval mode; ``model(x)`` runs the
            backbone and decode head (mmseg's ``mode='tensor'``).
        shape (tuple[int, int]): Input (H, W).
        max_depth (int): Depth of the per-module table.

    Returns:
        dict: ``params``, ``aux_params``, ``flops``, ``unsupported`` (ops
        without a FLOP rule and their counts) and ``table`` (str).
    """
    import torch
    from mmengine.analysis import FlopAnalyzer, parameter_count
    from mmengine.analysis.print_helper import complexity_stats_table
    inputs = torch.randn(1, 3, *shape)
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    with torch.no_grad():
        flops = analyzer.total()
    params = parameter_count(model)
    return dict(
        params=params[''],
        aux_params=params.get('auxiliary_head', 0),
        flops=flops,
        unsupported=dict(analyzer.unsupported_ops()),
        table=complexity_stats_table(
            flops=analyzer, max_depth=max_depth, show_param_shapes=False))


def main(argv=None):
    args = parse_args(argv)
    model = load_model(args)
    result = complexity(model, tuple(args.shape), args.max_depth)
    h, w = args.shape
    print(result['table'])
    print(f'input shape: 1x3x{h}x{w} (H x W = {h} x {w})')
    params, aux = result['params'], result['aux_params']
    print(f'params: {params / 1e6:.2f} M ({params:,}; auxiliary head '
          f'{aux / 1e6:.2f} M, without it {(params - aux) / 1e6:.2f} M)')
    print(f'flops: {result["flops"] / 1e9:.4g} G ({result["flops"]:,})')
    if result['unsupported']:
        ops = ', '.join(f'{op} x{n}'
                        for op, n in sorted(result['unsupported'].items()))
        print(f'not counted (no FLOP rule): {ops}')


if __name__ == '__main__':
    sys.exit(main())
