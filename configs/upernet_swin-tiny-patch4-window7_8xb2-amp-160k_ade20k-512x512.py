# upernet_swin-tiny-patch4-window7_8xb2-160k_ade20k-512x512.py with mixed
# precision (bfloat16 autocast on a CPU through tools/train.py, float16 with
# loss scaling on CUDA) and channels_last. On one CPU core its training step
# (batch 2 at 512x512) took 14.7 s against 34.7 s in float32
# (docs/training_and_distributed.md, "Published recipes"); its accuracy at
# this schedule was not measured (the float32 recipe is mmseg's).
_base_ = ['upernet_swin-tiny-patch4-window7_8xb2-160k_ade20k-512x512.py']
optim_wrapper = dict(type='AmpOptimWrapper')
custom_hooks = [dict(type='ChannelsLastHook')]
