# Quick start: UPerNet with a ConvNeXt-atto backbone trained from scratch on
# SyntheticScenes (generated into data/synthetic_scenes on first use, no
# download), 96x96 crops, batch 8, 1500 iterations, to a validation mIoU
# above 70% (README, "Quick start").
#
#   python tools/train.py configs/upernet_convnext.py     # or: make train
#
# It trains on the fast path (docs/training_and_distributed.md, "Fast
# training on CPU"): mixed precision (bfloat16 autocast on a CPU, float16
# with loss scaling on CUDA), channels_last, depthwise convolutions in
# float32 and the fused AdamW step. configs/upernet_convnext_fp32.py is the
# same training in float32 without them (for CPUs without AVX512-BF16/AMX).
#
# Writes to work_dirs/upernet_convnext/: checkpoints (iter_750.pth,
# iter_1500.pth, last_checkpoint), the text log and json logs
# (<timestamp>/<timestamp>.log, <timestamp>/vis_data/scalars.json) and four
# validation predictions drawn over their images
# (<timestamp>/vis_data/vis_image/).
_base_ = [
    '_base_/models/upernet_convnext.py',
    '_base_/datasets/synthetic_scenes.py',
    '_base_/default_runtime.py',
]
crop_size = (96, 96)
num_classes = 13
# One process on CPU: plain BatchNorm (SyncBN needs a GPU per process).
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch='atto', drop_path_rate=0.0),
    decode_head=dict(
        in_channels=[40, 80, 160, 320],
        channels=128,
        num_classes=num_classes,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=160,
        channels=64,
        num_classes=num_classes,
        norm_cfg=norm_cfg))

max_iters = 1500
warmup_iters = 100
optim_wrapper = dict(
    # tools/train.py makes it BF16AmpOptimWrapper (bfloat16 autocast) on a
    # machine without CUDA
    type='AmpOptimWrapper',
    # fused=True: one fused AdamW kernel for all parameters
    optimizer=dict(
        type='AdamW',
        lr=2e-3,
        betas=(0.9, 0.999),
        weight_decay=0.05,
        fused=True),
    # no weight decay on norms and biases, as in the ConvNeXt recipes
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters),
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='ResumableCheckpointHook',
        by_epoch=False,
        interval=max_iters // 2,
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # every 25th validation image (4 of 100) drawn with its prediction
    visualization=dict(type='SegVisualizationHook', draw=True, interval=25))
# channels_last model, optimizer state and input; ConvNeXt's depthwise 7x7
# convolutions in float32 (their bfloat16 backward is slower on CPU)
custom_hooks = [
    dict(type='ChannelsLastHook'),
    dict(type='DepthwiseFP32Hook'),
]
randomness = dict(seed=0)
