# SyntheticScenes (13 classes, 128x128 street and room scenes), generated
# into data/synthetic_scenes on first use: no download. Label 0 (sky) is a
# real class; 255 is only the pipeline's padding.
dataset_type = 'SyntheticScenesDataset'
data_root = 'data/synthetic_scenes'
img_size = 128  # generator_cfg.size
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(4 * img_size, img_size),
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4 * img_size, img_size), keep_ratio=True),
    # annotations are loaded after Resize: metrics use the original size
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
# Both splits are generated together; give both datasets the same settings.
generator_cfg = dict(seed=0, num_train=400, num_val=100, size=img_size)
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/training', seg_map_path='annotations/training'),
        generate_if_missing=True,
        generator_cfg=generator_cfg,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/validation',
            seg_map_path='annotations/validation'),
        generate_if_missing=True,
        generator_cfg=generator_cfg,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
