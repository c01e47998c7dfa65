# PASCAL VOC 2012 (21 classes): data/VOCdevkit/VOC2012.
# Loaders, samplers, TTA and evaluator come from ade20k.py.
_base_ = './ade20k.py'
dataset_type = 'PascalVOCDataset'
data_root = 'data/VOCdevkit/VOC2012'
crop_size = (512, 512)
# ade20k.py's pipelines (same scale and crop), labels read as they are
train_pipeline = [
    _base_.train_pipeline[0],
    dict(type='LoadAnnotations'),
    *_base_.train_pipeline[2:],
]
test_pipeline = [
    *_base_.test_pipeline[:2],
    dict(type='LoadAnnotations'),
    _base_.test_pipeline[3],
]
voc = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'))
train_dataloader = dict(
    dataset=dict(
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=train_pipeline,
        **voc))
val_dataloader = dict(
    dataset=dict(
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline,
        **voc))
test_dataloader = val_dataloader
