# The object level of the `scenes` source of the unified parsing data, as a
# plain semantic segmentation dataset (13 SyntheticScenes classes): a
# single-task UPerNet trained with this base sees exactly the images and
# object labels the multi-task model gets from that source, so that the
# multi-task and single-task object mIoU compare on the same images.
# Same folder and generator settings as unified_parsing.py, so whichever runs
# first generates it for both. Augmentations as synthetic_scenes.py.
_base_ = ['./unified_parsing.py']
img_size = 128  # as in unified_parsing.py
crop_size = (96, 96)
single_task_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(4 * img_size, img_size),
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size,
         cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
single_task_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4 * img_size, img_size),
         keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_sampler=None,
    dataset=dict(sources=['scenes'], pipeline=single_task_pipeline))
val_dataloader = dict(
    dataset=dict(sources=['scenes'], pipeline=single_task_test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
