# Quick start of Unified Perceptual Parsing: one UPerNet (ConvNeXt-atto,
# trunk of 128 channels) trained from scratch on the embedded unified
# parsing data (generated into data/unified_parsing on first use, no
# download) for scenes, objects, parts, materials and textures, with the
# quick start's recipe (configs/upernet_convnext.py: 96x96 crops, batch 8,
# AdamW) on a shorter schedule: 400 iterations of the main stage, where every
# batch comes from one source, drawn in proportion to its size (scenes:
# objects+parts+scene, materials) and trains the heads that source labels;
# then 300 iterations of the texture stage (the paper's final stage: the
# texture branch alone, on the finished backbone, from texture images; an
# iteration of it costs about a fifth of a main-stage one).
# It is also the parent of the Table 3 ablation (its "+T" row):
#   python tools/ablate.py 'configs/unified_parsing/ablations/*.py' \
#       configs/unified_parsing/upernet-upp_convnext-atto_1xb8-700iter_unified-parsing-96x96.py
#
#   python tools/train.py \
#       configs/unified_parsing/upernet-upp_convnext-atto_1xb8-700iter_unified-parsing-96x96.py
#
# Results, timing and the comparison with a single-task model:
# docs/unified_parsing.md.
_base_ = [
    '../_base_/models/upernet_upp_convnext.py',
    '../_base_/datasets/unified_parsing.py',
    '../_base_/default_runtime.py',
    # the quick start's AdamW, on the shorter schedule below
    '../_base_/schedules/schedule_1500_adamw.py',
]
crop_size = (96, 96)
# One process on CPU: plain BatchNorm (SyncBN needs a GPU per process).
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch='atto', drop_path_rate=0.0),
    decode_head=dict(
        in_channels=[40, 80, 160, 320], channels=128, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=160, channels=64, norm_cfg=norm_cfg))

# main stage 0..400, texture stage 400..700
texture_begin = 400
max_iters = 700
warmup_iters = 50
train_dataloader = dict(
    batch_sampler=dict(
        type='SourceBatchSampler',
        _delete_=True,
        # main stage: scenes and materials in proportion to their sizes;
        # texture stage: texture images only
        source_weights=dict(scenes=400, materials=300, textures=0),
        stages=[
            dict(
                begin=texture_begin,
                source_weights=dict(scenes=0, materials=0, textures=1))
        ]))
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_iters),
    dict(_base_.param_scheduler[1], begin=warmup_iters, end=texture_begin),
    # texture stage: restarts at texture_lr (UnifiedParsingStageHook), then
    # decays to 0
    dict(_base_.param_scheduler[1], begin=texture_begin, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    checkpoint=dict(interval=texture_begin), visualization=dict(draw=False))
custom_hooks = [
    dict(
        type='UnifiedParsingStageHook',
        texture_begin=texture_begin,
        texture_lr=_base_.lr),
]
randomness = dict(seed=0)
