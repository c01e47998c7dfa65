# Unified Perceptual Parsing (Xiao et al., ECCV 2018): the UPerNet of
# upernet_convnext.py (same backbone, trunk and auxiliary head) with its
# UPerHead turned into the shared trunk of scene, object, part, material and
# texture heads (UnifiedParsingHead). Class counts are those of the embedded
# unified parsing data (upernet_mm/datasets/unified_parsing_classes.py);
# tools/train.py checks them against the dataset's class lists.
_base_ = ['./upernet_convnext.py']
data_preprocessor = dict(
    # mmseg's SegDataPreProcessor, padding the part and material maps too
    type='UnifiedParsingDataPreProcessor')
model = dict(
    type='UnifiedParsingSegmentor',
    data_preprocessor=data_preprocessor,
    decode_head=dict(
        type='UnifiedParsingHead',
        tasks=('object', 'part', 'scene', 'material', 'texture'),
        num_classes=13,
        # part classes of each object class ('other' included), 0 = none:
        # building, window, tree, car, wheel, person, painting, table
        num_parts=[0, 3, 3, 3, 0, 0, 5, 3, 5, 0, 0, 3, 3],
        num_scene_classes=6,
        num_material_classes=18,
        num_texture_classes=9,
        texture_num_convs=2,
        # the object loss; mean over labelled pixels like the other tasks
        loss_decode=dict(avg_non_ignore=True),
        # the paper's weights
        loss_weights=dict(
            object=1.0, part=0.5, scene=0.25, material=1.0, texture=1.0)),
    # deep supervision of the objects, as mmseg's UPerNet recipes (trained
    # on the batches that have object labels)
    auxiliary_head=dict(num_classes=13))
# every batch comes from one source and trains only the heads it labels:
# DDP must not wait for the gradients of the others
find_unused_parameters = True
val_evaluator = dict(type='UnifiedParsingMetric')
test_evaluator = val_evaluator
