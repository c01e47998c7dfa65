# UPerNet ConvNeXt-T on CamVid from ImageNet-1k weights, as users with GPUs
# would train it: 4 GPUs x 4 images, 20k iterations, images upscaled to
# 960x720 (random scale 0.5-2.0), 512x512 crops, AdamW with stage-wise layer
# decay as the ADE20K ConvNeXt recipe, mixed precision, SyncBN. The class
# weights of the CPU recipe (configs/camvid/, ENet-style). Untested here
# (no GPU and no model download on the project's machine):
#
#   tools/dist_train.sh configs/camvid/THIS_FILE.py 4
#
# Evaluation resizes the 480x360 validation images to 960x720 and scores
# the predictions resized back to the labels' 480x360.
_base_ = [
    '../_base_/models/upernet_convnext.py', '../_base_/datasets/camvid.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_20k.py'
]
crop_size = (512, 512)
img_scale = (960, 720)
num_classes = 11
checkpoint_file = 'https://download.openmmlab.com/mmclassification/v0/convnext/downstream/convnext-tiny_3rdparty_32xb128-noema_in1k_20220301-795e9634.pth'  # noqa
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='tiny',
        drop_path_rate=0.3,
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint_file,
            prefix='backbone.')),
    decode_head=dict(
        in_channels=[96, 192, 384, 768],
        num_classes=num_classes,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            class_weight={{_base_.class_weight}})),
    auxiliary_head=dict(
        in_channels=384,
        num_classes=num_classes,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=0.4,
            class_weight={{_base_.class_weight}})))
# the CPU recipe's pipelines at 960x720 with 512x512 crops; annotations are
# loaded after Resize, so the metrics are at the labels' size
train_pipeline = [*_base_.train_pipeline]
train_pipeline[2] = dict(train_pipeline[2], scale=img_scale)
train_pipeline[3] = dict(train_pipeline[3], crop_size=crop_size)
test_pipeline = [*_base_.test_pipeline]
test_pipeline.insert(1, dict(type='Resize', scale=img_scale, keep_ratio=True))
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

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
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1000),
    dict(
        type='PolyLR',
        power=1.0,
        begin=1000,
        end=20000,
        eta_min=0.0,
        by_epoch=False)
]
