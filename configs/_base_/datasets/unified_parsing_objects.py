# The object level of the `scenes` source of the unified parsing data, as a
# plain semantic segmentation dataset (13 SyntheticScenes classes): a
# single-task UPerNet trained with this base sees exactly the images and
# object labels the multi-task model gets from that source, so that the
# multi-task and single-task object mIoU compare on the same images.
# Same folder and generator settings as unified_parsing.py, so whichever runs
# first generates it for both. Augmentations as synthetic_scenes.py.
_base_ = ['./unified_parsing.py']
# unified_parsing.py's pipelines with mmseg's loading and packing
single_task_pipeline = [
    _base_.train_pipeline[0],
    dict(type='LoadAnnotations'),
    *_base_.train_pipeline[2:-1],
    dict(type='PackSegInputs'),
]
single_task_test_pipeline = [
    *_base_.test_pipeline[:2],
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_sampler=None,
    dataset=dict(sources=['scenes'], pipeline=single_task_pipeline))
val_dataloader = dict(
    dataset=dict(sources=['scenes'], pipeline=single_task_test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
