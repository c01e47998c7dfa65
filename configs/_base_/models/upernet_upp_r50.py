# Unified Perceptual Parsing (Xiao et al., ECCV 2018) as in the paper:
# ResNet-50 (mmseg's ResNetV1c) and a UPerNet trunk of 512 channels shared
# by scene, object, part, material and texture heads. Class counts are those
# of the embedded unified parsing data; set them to your data's.
_base_ = ['./upernet_upp_convnext.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    pretrained='open-mmlab://resnet50_v1c',
    backbone=dict(
        _delete_=True,
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        in_channels=[256, 512, 1024, 2048], channels=512, norm_cfg=norm_cfg),
    # the authors' multi-task UPerNet has no auxiliary head
    auxiliary_head=None)
