# Unified Perceptual Parsing data: three sources generated into
# data/unified_parsing on first use (no download), as Broden+ mixes ADE20K,
# OpenSurfaces and DTD: `scenes` (objects, parts, scene category), `materials`
# (materials only, other images) and `textures` (image-level texture only).
# 128x128 images like SyntheticScenes, 96x96 crops. Every training batch comes
# from one source, drawn per iteration in proportion to the sources' sizes
# (SourceBatchSampler; `source_weights` and `stages` change that). Layout
# and how to write real data into it: docs/unified_parsing.md.
dataset_type = 'UnifiedParsingDataset'
data_root = 'data/unified_parsing'
img_size = 128  # generator_cfg.size
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    # object, part and material maps stacked in the channels of gt_seg_map,
    # so that every geometric transform keeps them aligned
    dict(type='LoadUnifiedParsingAnnotations'),
    dict(
        type='RandomResize',
        scale=(4 * img_size, img_size),
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackUnifiedParsingInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4 * img_size, img_size), keep_ratio=True),
    # annotations are loaded after Resize: metrics use the original size
    dict(type='LoadUnifiedParsingAnnotations'),
    dict(type='PackUnifiedParsingInputs')
]
# Both splits are generated together; give both datasets the same settings.
generator_cfg = dict(
    seed=0,
    size=img_size,
    num_train=dict(scenes=400, materials=300, textures=180),
    num_val=dict(scenes=100, materials=60, textures=45))
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='SourceBatchSampler', source_weights=None),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='training',
        generate_if_missing=True,
        generator_cfg=generator_cfg,
        pipeline=train_pipeline))
# every source that has validation images, one image per batch
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='validation',
        generate_if_missing=True,
        generator_cfg=generator_cfg,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# val_evaluator/test_evaluator: the unified parsing metric, set by the model
# configs (docs/unified_parsing.md)
