# Unified Perceptual Parsing at Broden+ scale, the paper's recipe (Xiao et
# al., ECCV 2018, and the authors' CSAILVision/unifiedparsing train.py):
# ResNet-50, UPerNet trunk of 512 channels, 8 GPUs x 2 images, SGD (lr 0.02,
# momentum 0.9, weight decay 1e-4, poly decay with power 0.9) for 100k
# iterations (the authors' 20 epochs of 5000 iterations), images resized to a
# random short side of 300, 375, 450, 525 or 600 (long side at most 1000),
# flipped, not cropped; every iteration draws one source with probability
# proportional to its size (Broden+: ADE20K+Pascal for objects, parts and
# scenes; OpenSurfaces for materials). The texture branch follows in a final
# stage of 10k iterations on the texture source alone (the paper gives no
# length for it: our choice).
#
# data_root is the embedded data (data/unified_parsing, generated on first
# use) so that the recipe builds and runs anywhere; for Broden+, write
# ADE20K/Pascal-Part, OpenSurfaces and DTD into the layout of
# docs/unified_parsing.md, set data_root, the class lists (dataset
# metainfo) and the head's class counts. Distributed:
#   tools/dist_train.sh \
#       configs/unified_parsing/upernet-upp_r50_8xb2-100k_broden-plus.py 8
_base_ = [
    '../_base_/models/upernet_upp_r50.py',
    '../_base_/datasets/unified_parsing.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_160k.py',
]
main_iters = 100000
texture_iters = 10000
max_iters = main_iters + texture_iters
lr = 0.02
# batches of differently sized images are padded to a multiple of 32
model = dict(data_preprocessor=dict(size_divisor=32))
short_sides = (300, 375, 450, 525, 600)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadUnifiedParsingAnnotations'),
    dict(
        type='RandomChoiceResize',
        scales=[(1000, s) for s in short_sides],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackUnifiedParsingInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1000, 450), keep_ratio=True),
    dict(type='LoadUnifiedParsingAnnotations'),
    dict(type='PackUnifiedParsingInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    batch_sampler=dict(
        type='SourceBatchSampler',
        _delete_=True,
        # main stage: proportional to the sources' sizes (those of the
        # embedded data here: put yours), without the texture source
        source_weights=dict(scenes=400, materials=300, textures=0),
        stages=[
            dict(
                begin=main_iters,
                source_weights=dict(scenes=0, materials=0, textures=1))
        ]),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=1e-4),
    # the authors' group_weight: no weight decay on biases and norms
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, by_epoch=False, begin=0,
         end=main_iters),
    dict(type='PolyLR', eta_min=0.0, power=0.9, by_epoch=False,
         begin=main_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=10000)
default_hooks = dict(checkpoint=dict(interval=10000))
custom_hooks = [
    dict(type='UnifiedParsingStageHook', texture_begin=main_iters,
         texture_lr=lr),
]
