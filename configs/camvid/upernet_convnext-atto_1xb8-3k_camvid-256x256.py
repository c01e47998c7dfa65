# UPerNet ConvNeXt-atto trained from scratch on CamVid's 367 training
# photographs, on a CPU (README, "Real photographs"):
#
#   mkdir -p data && ln -s "$(realpath ../shared/data/camvid)" data/camvid
#   (or a download converted by tools/dataset_converters/camvid.py)
#   python tools/train.py \
#       configs/camvid/upernet_convnext-atto_1xb8-3k_camvid-256x256.py
#
# The quick start's model and fast path (bfloat16 autocast, channels_last,
# float32 depthwise convolutions, fused AdamW) with CamVid's rare classes
# weighted in both heads' cross entropy (ENet-style weights
# 1 / ln(1.02 + p_c) of the training labels, from
# tools/analysis_tools/class_weights.py), random scale 0.5-2.0 around
# 480x360, 256x256 crops, batch 8, 3000 iterations (65 epochs). Validation
# on the 101 val images at full resolution. Writes to
# work_dirs/upernet_convnext-atto_1xb8-3k_camvid-256x256/.
_base_ = [
    '../_base_/models/upernet_convnext.py', '../_base_/datasets/camvid.py',
    '../_base_/default_runtime.py'
]
crop_size = (256, 256)
num_classes = 11
# sky, building, pole, road, pavement, tree, sign_symbol, fence, car,
# pedestrian, bicyclist
# One process on CPU: plain BatchNorm (SyncBN needs a GPU per process).
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch='atto', drop_path_rate=0.1),
    decode_head=dict(
        in_channels=[40, 80, 160, 320],
        channels=128,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            class_weight={{_base_.class_weight}})),
    auxiliary_head=dict(
        in_channels=160,
        channels=64,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=0.4,
            class_weight={{_base_.class_weight}})))

max_iters = 3000
warmup_iters = 200
optim_wrapper = dict(
    # tools/train.py makes it BF16AmpOptimWrapper (bfloat16 autocast) on a
    # machine without CUDA
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW',
        lr=2e-3,
        betas=(0.9, 0.999),
        weight_decay=0.05,
        fused=True),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters),
]
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters // 4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='ResumableCheckpointHook',
        by_epoch=False,
        interval=max_iters // 4,
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook', draw=False))
custom_hooks = [
    dict(type='ChannelsLastHook'),
    dict(type='DepthwiseFP32Hook'),
]
randomness = dict(seed=0)
