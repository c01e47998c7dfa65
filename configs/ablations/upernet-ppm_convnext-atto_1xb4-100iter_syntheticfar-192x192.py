# Ablation (paper's Table 2 "PSPNet" row, without dilation): PPM alone, on the
# coarsest level (stride 32) only, no FPN; the head predicts at stride 32.
_base_ = ['./upernet_convnext-atto_1xb4-100iter_syntheticfar-192x192.py']
model = dict(decode_head=dict(in_index=[3], in_channels=[320]))
