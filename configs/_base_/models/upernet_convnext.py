# UPerNet with an mmpretrain ConvNeXt backbone (ConvNeXt-T widths), as in
# "A ConvNet for the 2020s" (Liu et al., 2022).
# The heads of upernet_r50.py, at this backbone's widths.
_base_ = ['./upernet_r50.py']
custom_imports = dict(
    imports=['mmpretrain.models'], allow_failed_imports=False)
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXt',
        arch='tiny',
        out_indices=[0, 1, 2, 3],
        drop_path_rate=0.4,
        layer_scale_init_value=1.0,
        gap_before_final_norm=False),
    decode_head=dict(in_channels=[96, 192, 384, 768]),
    auxiliary_head=dict(in_channels=384))
