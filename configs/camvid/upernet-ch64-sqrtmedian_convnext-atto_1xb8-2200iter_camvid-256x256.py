# The CamVid CPU recipe with a 64-channel head, milder class weights and a
# shorter schedule, sized for a CPU without bfloat16 instructions (where
# tools/train.py trains in float32, and the head's 3x3 convolutions at
# stride 4 are most of a step: 4.2 s with 128 channels, 2.0 s with 64, on an
# AVX2-only AMD EPYC; docs/camvid.md):
#
#   python tools/train.py configs/camvid/upernet-ch64-sqrtmedian_convnext-atto_1xb8-2200iter_camvid-256x256.py --check-data  # noqa: E501
#
# Head 64 channels (auxiliary head unchanged), the square roots of the
# median-frequency weights in both heads instead of ENet's, 2200 iterations
# (48 epochs), validation and checkpoints every 550.
_base_ = ['./upernet_convnext-atto_1xb8-3k_camvid-256x256.py']
class_weight = {{_base_.class_weight_sqrt_median}}
model = dict(
    decode_head=dict(channels=64, loss_decode=dict(class_weight=class_weight)),
    auxiliary_head=dict(loss_decode=dict(class_weight=class_weight)))
max_iters = 2200
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 4)
default_hooks = dict(checkpoint=dict(interval=max_iters // 4))
