# Unified Perceptual Parsing at Broden+ scale, the paper's recipe (Xiao et
# al., ECCV 2018, and the authors' CSAILVision/unifiedparsing train.py):
# ResNet-50, UPerNet trunk of 512 channels, 8 GPUs x 2 images, SGD (lr 0.02,
# momentum 0.9, weight decay 1e-4, poly decay with power 0.9) for 100k
# iterations (the default of the authors' train.py: 20 epochs of 5000
# iterations; see docs/unified_parsing.md for why not more), images resized
# to a random short side of 300, 375, 450, 525 or 600 (long side at most
# 1000), flipped, not cropped; every iteration draws one source with
# probability proportional to its number of images, read from the data.
# The texture branch follows in a final stage of 10k iterations on the
# texture source alone (the paper gives no length for it: our choice), on
# random 64x64 crops of the texture images, as the paper trains texture.
#
# data_root holds one folder per source, written by the converters of
# tools/dataset_converters/ (docs/unified_parsing.md): ade20k (objects,
# parts, scenes), pascal_part (objects, parts), opensurfaces (materials),
# dtd (textures); the class lists come from their metainfo.json. Nothing is
# generated: a wrong data_root is an error. Set the head's class counts to
# the lists (tools/train.py says which). Labels are read with ignore_index
# 65535, so that more than 255 classes of a level (Broden+'s 335 objects)
# fit 16-bit label maps. One machine, 8 GPUs:
#   tools/dist_train.sh \
#       configs/unified_parsing/upernet-upp_r50_8xb2-100k_broden-plus.py 8
# Several machines: docs/unified_parsing.md.
_base_ = [
    '../_base_/models/upernet_upp_r50.py',
    '../_base_/datasets/unified_parsing.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_160k.py',
]
data_root = 'data/broden_plus'
main_iters = 100000
texture_iters = 10000
max_iters = main_iters + texture_iters
lr = 0.02
ignore_index = 65535
texture_crop = (64, 64)
model = dict(
    # batches of differently sized images are padded to a multiple of 32
    data_preprocessor=dict(size_divisor=32, seg_pad_val=ignore_index),
    decode_head=dict(ignore_index=ignore_index))
short_sides = (300, 375, 450, 525, 600)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadUnifiedParsingAnnotations'),
    dict(
        type='TaskBranch',
        branches=dict(
            texture=[dict(type='RandomCrop', crop_size=texture_crop)]),
        default=[
            dict(
                type='RandomChoiceResize',
                scales=[(1000, s) for s in short_sides],
                keep_ratio=True)
        ]),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackUnifiedParsingInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1000, 450), keep_ratio=True),
    dict(type='LoadUnifiedParsingAnnotations'),
    dict(type='PackUnifiedParsingInputs')
]
broden_dataset = dict(
    data_root=data_root,
    generate_if_missing=False,
    metainfo_from_sources=True,
    ignore_index=ignore_index)
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    batch_sampler=dict(
        type='SourceBatchSampler',
        _delete_=True,
        # main stage: in proportion to the sources' sizes, no textures
        source_weights=dict(
            ade20k='size', pascal_part='size', opensurfaces='size', dtd=0),
        stages=[
            dict(
                begin=main_iters,
                source_weights=dict(
                    ade20k=0, pascal_part=0, opensurfaces=0, dtd=1))
        ]),
    dataset=dict(pipeline=train_pipeline, **broden_dataset))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline, **broden_dataset))
test_dataloader = val_dataloader
val_evaluator = dict(ignore_index=ignore_index)
test_evaluator = val_evaluator
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=1e-4),
    # the authors' group_weight: no weight decay on biases and norms
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
# schedule_160k.py's poly decay over the main stage, and again over the
# texture stage (restarting at texture_lr: UnifiedParsingStageHook)
param_scheduler = [
    dict(_base_.param_scheduler[0], eta_min=0.0, end=main_iters),
    dict(
        _base_.param_scheduler[0],
        eta_min=0.0,
        begin=main_iters,
        end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=10000)
default_hooks = dict(checkpoint=dict(interval=10000))
custom_hooks = [
    dict(
        type='UnifiedParsingStageHook',
        texture_begin=main_iters,
        texture_lr=lr),
]
