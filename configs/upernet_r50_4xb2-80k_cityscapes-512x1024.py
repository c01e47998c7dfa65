# UPerNet R-50 on Cityscapes (mmseg reports 78.19 mIoU): 4 GPUs x 2 images,
# 80k iterations of SGD with poly decay.
_base_ = [
    '_base_/models/upernet_r50.py', '_base_/datasets/cityscapes.py',
    '_base_/default_runtime.py', '_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=19),
    auxiliary_head=dict(num_classes=19))
