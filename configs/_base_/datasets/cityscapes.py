# Cityscapes (19 classes, *_gtFine_labelTrainIds.png): data/cityscapes.
# Loaders, samplers, TTA and evaluator come from ade20k.py.
_base_ = './ade20k.py'
dataset_type = 'CityscapesDataset'
data_root = 'data/cityscapes/'
crop_size = (512, 1024)
# ade20k.py's pipelines at Cityscapes' scale, labels read as they are
train_pipeline = [
    _base_.train_pipeline[0],
    dict(type='LoadAnnotations'),
    dict(_base_.train_pipeline[2], scale=(2048, 1024)),
    dict(_base_.train_pipeline[3], crop_size=crop_size),
    *_base_.train_pipeline[4:],
]
test_pipeline = [
    _base_.test_pipeline[0],
    dict(_base_.test_pipeline[1], scale=(2048, 1024)),
    dict(type='LoadAnnotations'),
    _base_.test_pipeline[3],
]
cityscapes = dict(type=dataset_type, data_root=data_root)
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=train_pipeline,
        **cityscapes))
val_dataloader = dict(
    dataset=dict(
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline,
        **cityscapes))
test_dataloader = val_dataloader
