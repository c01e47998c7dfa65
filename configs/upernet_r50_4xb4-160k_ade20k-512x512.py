# UPerNet R-50 on ADE20K (mmseg reports 42.05 mIoU): 4 GPUs x 4 images,
# 160k iterations of SGD with poly decay.
_base_ = [
    '_base_/models/upernet_r50.py', '_base_/datasets/ade20k.py',
    '_base_/default_runtime.py', '_base_/schedules/schedule_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
