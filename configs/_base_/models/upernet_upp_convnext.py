# Unified Perceptual Parsing (Xiao et al., ECCV 2018): the UPerNet trunk of
# UPerHead shared by scene, object, part, material and texture heads
# (UnifiedParsingHead), on an mmpretrain ConvNeXt backbone (ConvNeXt-T
# widths). Class counts are those of the embedded unified parsing data
# (upernet_mm/datasets/unified_parsing_classes.py); tools/train.py checks
# them against the dataset's class lists before training.
norm_cfg = dict(type='SyncBN', requires_grad=True)
custom_imports = dict(imports=['mmpretrain.models'], allow_failed_imports=False)
data_preprocessor = dict(
    # mmseg's SegDataPreProcessor, padding the part and material maps too
    type='UnifiedParsingDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='UnifiedParsingSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='mmpretrain.ConvNeXt',
        arch='tiny',
        out_indices=[0, 1, 2, 3],
        drop_path_rate=0.4,
        layer_scale_init_value=1.0,
        gap_before_final_norm=False),
    decode_head=dict(
        type='UnifiedParsingHead',
        tasks=('object', 'part', 'scene', 'material', 'texture'),
        in_channels=[96, 192, 384, 768],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=13,
        # part classes of each object class ('other' included), 0 = none:
        # building, window, tree, car, wheel, person, painting, table
        num_parts=[0, 3, 3, 3, 0, 0, 5, 3, 5, 0, 0, 3, 3],
        num_scene_classes=6,
        num_material_classes=18,
        num_texture_classes=9,
        texture_num_convs=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        # the object loss; mean over labelled pixels like the other tasks
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True),
        # the paper's weights
        loss_weights=dict(
            object=1.0, part=0.5, scene=0.25, material=1.0, texture=1.0)),
    # deep supervision of the objects, as mmseg's UPerNet recipes (trained
    # on the batches that have object labels)
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=384,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=13,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# every batch comes from one source and trains only the heads it labels:
# DDP must not wait for the gradients of the others
find_unused_parameters = True
val_evaluator = dict(type='UnifiedParsingMetric')
test_evaluator = val_evaluator
