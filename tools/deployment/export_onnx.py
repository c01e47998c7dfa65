"""Export a trained segmentor to ONNX with dynamic batch, height and width.

The graph takes ``image``: float32 (N, 3, H, W), 0-255, channels in the
order the data pipeline loads them (BGR for ``LoadImageFromFile``); the
config's mean/std normalisation and channel flip are inside. It returns
``logits``: (N, num_classes, H, W), whole-image inference (no sliding
window, no padding: give sizes the backbone accepts, e.g. multiples of 32).

Example:
    python tools/deployment/export_onnx.py CONFIG CHECKPOINT model.onnx
    python tools/deployment/export_onnx.py CONFIG CHECKPOINT model.onnx \\
        --shape 512 512 --verify 384 640
"""
import os
import os.path as osp
import sys

import torch

from upernet_mm.cli_args import (add_model_args, add_shape_arg, load_model,
                                 optional_packages, tool_parser)
from upernet_mm.deploy.segmentor_logits import INPUT_NAME, SegmentorLogits


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_model_args(parser)
    parser.add_argument('out', help='the .onnx file to write')
    add_shape_arg(parser)
    parser.add_argument('--opset', type=int, help='ONNX opset version')
    parser.add_argument(
        '--verify',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='after export, compare onnxruntime with PyTorch on random '
        'images of --shape and of this size and print the largest '
        'difference')
    return parser.parse_args(argv)


def verify(model, path, sizes):
    """Largest |onnxruntime - PyTorch| logit difference per input size."""
    import onnxruntime as ort  # here, not at the top: an optional package
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    reference = SegmentorLogits(model).eval()
    gen = torch.Generator().manual_seed(0)
    diffs = {}
    for h, w in sizes:
        image = torch.rand(1, 3, h, w, generator=gen) * 255
        with torch.no_grad():
            expected = reference(image)
        got = session.run(None, {INPUT_NAME: image.numpy()})[0]
        diffs[(h, w)] = (torch.from_numpy(got) - expected).abs().max().item()
    return diffs


def main(argv=None):
    args = parse_args(argv)
    # here, not at the top: optional packages
    with optional_packages('ONNX export', 'onnx onnxscript onnxruntime'):
        import onnxscript  # noqa: F401

        from upernet_mm.deploy.onnx.export import export_onnx
    # strict: every key of the checkpoint must match the model
    model = load_model(args, strict=True)
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    export_onnx(model, args.out, example_size=args.shape, opset=args.opset)
    print(f'wrote {args.out}: input "image" (N, 3, H, W) float32 0-255, '
          'output "logits" (N, num_classes, H, W)')
    if args.verify:
        diffs = verify(
            model, args.out,
            [tuple(args.shape), tuple(args.verify)])
        for (h, w), d in diffs.items():
            print(f'onnxruntime vs PyTorch at {h}x{w}: max |diff| {d:.2e}')


if __name__ == '__main__':
    sys.exit(main())
