"""Compare int8 OpenVINO quantization settings on a trained model: pixels
in the same class as the PyTorch float32 model, and mIoU, on the
validation split.

Each variant (what stays unquantized, NNCF's model type and bias
correction, the number of calibration images, the runtime precision of the
rest) is quantized in memory from one converted float model, with the
calibration images of tools/deployment/export_openvino.py.

Example:
    python tools/deployment/compare_int8.py configs/upernet_convnext.py \\
        work_dirs/upernet_convnext/iter_1500.pth --shape 128 128
"""
import sys

import mmcv
import numpy as np
import torch
from mmengine.registry import DefaultScope
from mmseg.evaluation.metrics import IoUMetric

from upernet_mm.cli_args import (add_model_args, add_shape_arg, load_model,
                                 optional_packages, tool_parser)
from upernet_mm.deploy.calibration import calibration_images, spaced_indices
from upernet_mm.deploy.segmentor_logits import SegmentorLogits
from upernet_mm.registry import DATASETS

# (label, number of calibration images (None: --calib-images),
#  arguments of upernet_mm.deploy.openvino.export.quantize)
VARIANTS = [
    ('keep classifier (default)', None, {}),
    ('quantize everything', None, dict(keep_float=())),
    ('keep classifier + stem', None, dict(keep_float=('classifier', 'stem'))),
    ('keep classifier, SmoothQuant (transformer)', None,
     dict(transformer=True)),
    ('keep classifier, full bias correction', None,
     dict(fast_bias_correction=False)),
    ('keep classifier, 50 calibration images', 50, {}),
]


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_model_args(parser)
    add_shape_arg(parser)
    parser.add_argument(
        '--calib-images',
        type=int,
        default=300,
        help='calibration images from the training split (default 300)')
    parser.add_argument(
        '--images',
        type=int,
        default=100,
        help='validation images to evaluate on (default 100)')
    return parser.parse_args(argv)


def miou(preds, labels, num_classes, ignore_index=255):
    """mIoU (%) of predicted class maps against label maps, by mmseg's
    IoUMetric (the mean over the classes with a union)."""
    areas = [
        IoUMetric.intersect_and_union(
            torch.from_numpy(pred), torch.from_numpy(label.astype(np.int64)),
            num_classes, ignore_index) for pred, label in zip(preds, labels)
    ]
    totals = [sum(area[k] for area in areas) for k in range(4)]
    iou = IoUMetric.total_area_to_metrics(*totals, ['mIoU'])['IoU']
    return float(100 * np.nanmean(iou))


def main(argv=None):
    args = parse_args(argv)
    # here, not at the top: optional packages
    with optional_packages('int8 quantization', 'openvino nncf',
                           ' (requirements/optional.txt)'):
        from upernet_mm.deploy.openvino import export as oe
        from upernet_mm.deploy.openvino.runtime import compile_ir
    model = load_model(args, strict=True)
    cfg = model.cfg
    num_classes = model.decode_head.num_classes
    images, _ = calibration_images(cfg, args.images, 'val')
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'upernet_mm')):
        dataset = DATASETS.build(cfg.val_dataloader.dataset)
    labels = [
        mmcv.imread(
            dataset.get_data_info(i)['seg_map_path'], flag='unchanged')
        for i in spaced_indices(len(dataset), args.images)
    ]
    if any(lab.shape != img.shape[2:] for lab, img in zip(labels, images)):
        sys.exit('error: the test pipeline resizes the images; this tool '
                 'compares at the label size only')
    reference = SegmentorLogits(model).eval()
    with torch.no_grad():
        ref = [
            reference(torch.as_tensor(i)).argmax(1)[0].numpy() for i in images
        ]

    def report(label, runner):
        preds = [runner(i).argmax(1)[0].numpy() for i in images]
        agree = 100 * np.mean([(p == r).mean() for p, r in zip(preds, ref)])
        score = miou(preds, labels, num_classes)
        print(f'| {label} | {agree:.3f} | {score:.2f} |', flush=True)

    print(f'| variant | pixels as PyTorch fp32 (%) | mIoU |\n|---|---|---|\n'
          f'| PyTorch fp32 | 100 | {miou(ref, labels, num_classes):.2f} |')
    float_model = oe.convert(model, tuple(args.shape))
    for hint in ('f32', 'bf16'):
        report(f'OpenVINO float, runtime {hint}',
               compile_ir(float_model, 'fp32', hint, num_classes))
    calib, _ = calibration_images(cfg, args.calib_images, 'train')
    for label, num, kwargs in VARIANTS:
        images_used = calib if num is None else calibration_images(
            cfg, num, 'train')[0]
        quantized = oe.quantize(float_model.clone(), images_used, **kwargs)
        for hint in ('bf16', 'f32'):
            report(f'int8, {label}, rest {hint}',
                   compile_ir(quantized, 'int8', hint, num_classes))


if __name__ == '__main__':
    sys.exit(main())
