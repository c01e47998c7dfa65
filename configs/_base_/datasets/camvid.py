# CamVid in the SegNet layout (11 classes, void = 11 mapped to the ignore
# index 255 by CamVidDataset): data/camvid holds train/, trainannot/, val/,
# valannot/ (and test/, testannot/). Link a copy there, e.g.
#   mkdir -p data && ln -s "$(realpath ../shared/data/camvid)" data/camvid
# (from the repository root: a relative link target would be resolved from
# data/)
# or convert the original release with tools/dataset_converters/camvid.py.
# Evaluation as the literature: whole 480x360 images, predictions at the
# labels' full size, 11-class IoU with void ignored, global pixel accuracy.
dataset_type = 'CamVidDataset'
data_root = 'data/camvid'
img_scale = (480, 360)
crop_size = (256, 256)
# ENet-style class weights 1 / ln(1.02 + p_c), p_c the share of class c in
# the training labels (tools/analysis_tools/class_weights.py), in the order
# sky, building, pole, road, pavement, tree, sign_symbol, fence, car,
# pedestrian, bicyclist; the recipes' losses refer to them as _base_'s
# class_weight
class_weight = [
    5.603, 4.295, 33.574, 3.335, 15.486, 8.739, 31.542, 32.012, 12.829, 38.014,
    43.907
]
# Milder: the square roots of the median-frequency weights median(f) / f_c
# (`class_weights.py CONFIG --method sqrt-median`), a spread of 7.7 instead
# of 13 (configs/camvid/upernet-ch64-sqrtmedian_*)
class_weight_sqrt_median = [
    0.5286, 0.4492, 2.1884, 0.3861, 1.0, 0.6508, 1.9612, 1.4071, 0.8883,
    2.5268, 2.9697
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# the images are 480x360 already: no resize, the labels keep their size
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
# tools/test.py --tta: the mean of six scales and their flips
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]
        ])
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='train', seg_map_path='trainannot'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        pipeline=test_pipeline))
# the held-out split: tools/test.py CONFIG CKPT --cfg-options
# test_dataloader.dataset.data_prefix.img_path=test
# test_dataloader.dataset.data_prefix.seg_map_path=testannot
test_dataloader = val_dataloader
# mIoU, global pixel accuracy (aAcc) and per-class IoU/Acc in the table
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
