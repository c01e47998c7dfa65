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
    '_base_/schedules/schedule_1500_adamw.py',  # AdamW, 1500 iterations
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

optim_wrapper = dict(
    # tools/train.py makes it BF16AmpOptimWrapper (bfloat16 autocast) on a
    # machine without CUDA
    type='AmpOptimWrapper',
    # fused=True: one fused AdamW kernel for all parameters
    optimizer=dict(fused=True))
default_hooks = dict(
    # every 25th validation image (4 of 100) drawn with its prediction
    visualization=dict(draw=True, interval=25))
# channels_last model, optimizer state and input; ConvNeXt's depthwise 7x7
# convolutions in float32 (their bfloat16 backward is slower on CPU)
custom_hooks = [
    dict(type='ChannelsLastHook'),
    dict(type='DepthwiseFP32Hook'),
]
randomness = dict(seed=0)
