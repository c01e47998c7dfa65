# Single-task baseline of the unified parsing quick start: the single-task
# quick start's model and recipe (configs/upernet_convnext.py: UPerHead with
# an FCN auxiliary head, objects only) trained on the images that give the
# multi-task model its object labels (the scenes source of the embedded
# unified parsing data) with the multi-task quick start's main-stage
# schedule (400 iterations, batch 8, 96x96 crops). Evaluated with the same
# metric on the same validation images (docs/unified_parsing.md).
_base_ = ['../upernet_convnext_fp32.py']  # the quick start in float32
upp_generator_cfg = dict(
    seed=0,
    size=128,
    num_train=dict(scenes=400, materials=300, textures=180),
    num_val=dict(scenes=100, materials=60, textures=45))
dataset = dict(
    type='UnifiedParsingDataset',
    data_root='data/unified_parsing',
    sources=['scenes'],
    generate_if_missing=True,
    generator_cfg=upp_generator_cfg)
# the quick start's pipelines (its 128x128 images, 96x96 crops) read the
# dataset's object maps alone: mmseg's loading and packing
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        split='training',
        pipeline=_base_.train_pipeline,
        **dataset))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        split='validation',
        pipeline=_base_.test_pipeline,
        **dataset))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='UnifiedParsingMetric')
test_evaluator = val_evaluator

max_iters = 400
warmup_iters = 50
# the quick start's warm-up and decay, over these iterations
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_iters),
    dict(_base_.param_scheduler[1], begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1),
    visualization=dict(draw=False))
