# UPerNet ConvNeXt-T on ADE20K, the recipe of "A ConvNet for the 2020s"
# (46.0 mIoU single-scale in the paper): 8 GPUs x 2 images, 160k iterations,
# AdamW with stage-wise layer decay, mixed precision.
_base_ = [
    '_base_/models/upernet_convnext.py', '_base_/datasets/ade20k.py',
    '_base_/default_runtime.py', '_base_/schedules/schedule_160k.py'
]
crop_size = (512, 512)
checkpoint_file = 'https://download.openmmlab.com/mmclassification/v0/convnext/downstream/convnext-tiny_3rdparty_32xb128-noema_in1k_20220301-795e9634.pth'  # noqa
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='tiny',
        drop_path_rate=0.4,
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    decode_head=dict(in_channels=[96, 192, 384, 768], num_classes=150),
    auxiliary_head=dict(in_channels=384, num_classes=150),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=0.0001, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise', num_layers=6),
    constructor='LearningRateDecayOptimizerConstructor',
    loss_scale='dynamic')
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        power=1.0,
        begin=1500,
        end=160000,
        eta_min=0.0,
        by_epoch=False)
]
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
# channels_last and float32 depthwise convolutions under bfloat16 autocast:
# on one CPU core the training step (batch 2 at 512x512) took 12.3 s against
# 16.4 s with autocast alone and 32.0 s in float32
# (docs/training_and_distributed.md, "Published recipes")
custom_hooks = [
    dict(type='ChannelsLastHook'),
    dict(type='DepthwiseFP32Hook'),
]
