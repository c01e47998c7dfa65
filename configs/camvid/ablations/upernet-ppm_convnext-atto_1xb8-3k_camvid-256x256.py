# Table 2 on CamVid, PPM alone (the "PSPNet" row without its dilated
# backbone): pyramid pooling on the coarsest level (stride 32) only, no FPN;
# the head predicts at stride 32 (ConvNeXt has no dilation option).
_base_ = ['../upernet_convnext-atto_1xb8-3k_camvid-256x256.py']
model = dict(decode_head=dict(in_index=[3], in_channels=[320]))
