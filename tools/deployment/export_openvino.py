"""Export a trained segmentor to OpenVINO (IR .xml + .bin and a JSON
sidecar) in fp32, bf16 or int8, and check it against the PyTorch model.

The IR takes ``image``: float32 (N, 3, H, W), 0-255, channels in the order
the data pipeline loads them (BGR for ``LoadImageFromFile``), the config's
normalisation inside; it returns ``logits`` (N, num_classes, H, W); N, H
and W are dynamic. int8 is NNCF post-training static quantization
calibrated on --calib-images training images through the test pipeline
(an evenly spaced, fixed subset in file-name order). tools/test.py,
tools/infer.py and upernet_mm.apis.init_model take OUT (the directory) in
place of the checkpoint.

Examples:
    python tools/deployment/export_openvino.py CONFIG CKPT --out ov_fp32
    python tools/deployment/export_openvino.py CONFIG CKPT --out ov_int8 \\
        --precision int8 --calib-images 300
    python tools/test.py CONFIG ov_int8 --deploy int8
"""
import sys

from upernet_mm.cli_args import (add_model_args, add_shape_arg, load_model,
                                 optional_packages, tool_parser)


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_model_args(parser)
    parser.add_argument(
        '--out',
        required=True,
        help='directory to write (model.xml, model.bin, '
        'upernet_mm_openvino.json)')
    parser.add_argument(
        '--precision',
        choices=('fp32', 'bf16', 'int8'),
        default='fp32',
        help='fp32: float32 IR run in f32; bf16: the same IR run in '
        'bfloat16; int8: NNCF-quantized IR (default fp32)')
    add_shape_arg(
        parser, also=', and of the random check image without --check-images')
    parser.add_argument(
        '--verify',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='also check on a random image of this size')
    parser.add_argument(
        '--calib-images',
        type=int,
        default=300,
        help='int8: number of calibration images (default 300)')
    parser.add_argument(
        '--calib-split',
        choices=('train', 'val', 'test'),
        default='train',
        help='int8: dataset split of the calibration images (default train)')
    parser.add_argument(
        '--check-images',
        type=int,
        default=None,
        help='check on this many validation images (through the test '
        'pipeline) instead of a random image of --shape (default: 16 for '
        'bf16 and int8, 0 for fp32)')
    parser.add_argument(
        '--keep-float',
        nargs='*',
        default=None,
        metavar='GROUP',
        help='int8: layer groups left unquantized, of classifier, stem, '
        'layernorm (default: classifier; give no group for none)')
    parser.add_argument(
        '--no-fast-bias-correction',
        action='store_true',
        help='int8: NNCF\'s full bias correction instead of the fast one')
    parser.add_argument(
        '--transformer',
        action='store_true',
        help='int8: NNCF model_type TRANSFORMER (SmoothQuant)')
    parser.add_argument(
        '--inference-precision',
        choices=('f32', 'bf16'),
        help='INFERENCE_PRECISION_HINT recorded for the runtime (default: '
        'f32 for fp32, bf16 for bf16 and for the unquantized part of int8)')
    args = parser.parse_args(argv)
    if args.calib_images < 1:
        parser.error(f'--calib-images must be >= 1, got {args.calib_images}')
    if args.check_images is None:
        args.check_images = 0 if args.precision == 'fp32' else 16
    if args.check_images < 0:
        parser.error(f'--check-images must be >= 0, got {args.check_images}')
    return args


def main(argv=None):
    args = parse_args(argv)
    # here, not at the top: optional packages
    with optional_packages('OpenVINO export', 'openvino nncf',
                           ' (requirements/optional.txt)'):
        from upernet_mm.deploy.openvino import export as openvino_export
    from upernet_mm.deploy.calibration import calibration_images
    from upernet_mm.deploy.openvino.artefact import read_sidecar, sha256_file
    model = load_model(args, strict=True)
    sha = None if args.checkpoint.startswith('hf://') else sha256_file(
        args.checkpoint)
    calibration, calib_info = None, None
    if args.precision == 'int8':
        calibration, calib_info = calibration_images(model.cfg,
                                                     args.calib_images,
                                                     args.calib_split)
        print(f'calibration: {len(calibration)} {args.calib_split} images '
              f'of {calib_info["dataset_size"]}, from '
              f'{calib_info["first_file"]}')
    # real images where they say more (pixel agreement), random ones else
    if args.check_images:
        check = calibration_images(model.cfg, args.check_images, 'val')[0]
    else:
        check = openvino_export.random_images([tuple(args.shape)])
    if args.verify:
        check += openvino_export.random_images([tuple(args.verify)], seed=1)
    keep_float = openvino_export.KEEP_FLOAT if args.keep_float is None \
        else tuple(args.keep_float)
    try:
        xml = openvino_export.export_openvino(
            model,
            args.out,
            args.precision,
            example_size=tuple(args.shape),
            calibration=calibration,
            check_images=check,
            keep_float=keep_float,
            fast_bias_correction=not args.no_fast_bias_correction,
            transformer=args.transformer,
            inference_precision=args.inference_precision,
            checkpoint_sha256=sha,
            calibration_info=calib_info)
    except ValueError as error:
        sys.exit(f'error: {error}')
    info = read_sidecar(args.out)
    check = info['check']
    print(f'wrote {xml} ({args.precision}, runtime '
          f'{info["runtime"]["inference_precision_hint"]}); input "image" '
          '(N, 3, H, W) float32 0-255, output "logits" (N, num_classes, H, W)')
    print(f'OpenVINO {args.precision} vs PyTorch fp32 on {check["images"]} '
          f'images (sizes {check["sizes"]}): max |logit diff| '
          f'{check["max_abs_logit_diff"]:.2e}, pixels in the same class '
          f'{100 * check["pixel_agreement"]:.3f}%')


if __name__ == '__main__':
    sys.exit(main())
