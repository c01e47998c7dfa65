# Parent of the ablations at the ablation scale of SyntheticScenes: the quick
# start (configs/upernet_convnext.py) on 256x256 far-context scenes (see
# docs/embedded_datasets.md) with 192x192 crops, so the coarsest level
# (stride 32) is 6x6 and pool scales 1, 2, 3, 6 divide a map at least as
# large as their grids; head channels 64 (quick start: 128), batch 4, 100
# iterations, validation on the first 50 of the 100 validation scenes, 3
# seeds per config: a schedule sized for the whole set (9 configs x 3 seeds)
# on one shared core (docs/ablations.md). Each sibling config changes one
# thing of its _base_ by inheritance:
#   python tools/ablate.py 'configs/ablations/*.py'      # docs/ablations.md
_base_ = ['../upernet_convnext_fp32.py']  # the quick start in float32
ablation_seeds = 3  # tools/ablate.py trains every config with seeds 0, 1, 2
img_size = 256
crop_size = (192, 192)
data_root = 'data/synthetic_scenes_far256'
generator_cfg = dict(
    seed=0, num_train=400, num_val=100, size=img_size, far_context=True)
# the quick start's pipelines at this image and crop size
# (RandomResize, RandomCrop; Resize)
train_pipeline = [*_base_.train_pipeline]
train_pipeline[2] = dict(train_pipeline[2], scale=(4 * img_size, img_size))
train_pipeline[3] = dict(train_pipeline[3], crop_size=crop_size)
test_pipeline = [*_base_.test_pipeline]
test_pipeline[1] = dict(test_pipeline[1], scale=(4 * img_size, img_size))
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        generator_cfg=generator_cfg,
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        generator_cfg=generator_cfg,
        indices=50,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(channels=64),
    auxiliary_head=dict(channels=32))

max_iters = 100
warmup_iters = 15
# the quick start's warm-up and decay, over these iterations
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_iters),
    dict(_base_.param_scheduler[1], begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1),
    visualization=dict(draw=False))
