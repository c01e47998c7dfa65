# The quick start (configs/upernet_convnext.py) in float32 and NCHW: no
# autocast, no channels_last, no float32-depthwise hook, AdamW's default
# (foreach) step. For CPUs without bfloat16 instructions (AVX512-BF16/AMX),
# where bfloat16 autocast is slower than float32, and as the reference the
# fast path is measured against (docs/training_and_distributed.md).
_base_ = ['upernet_convnext.py']
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(fused=None))
custom_hooks = []
