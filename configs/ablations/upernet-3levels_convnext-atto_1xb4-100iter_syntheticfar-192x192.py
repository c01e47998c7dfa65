# Ablation: FPN over the three coarsest levels (strides 8, 16, 32) instead of
# all four; the head predicts at stride 8.
_base_ = ['./upernet_convnext-atto_1xb4-100iter_syntheticfar-192x192.py']
model = dict(decode_head=dict(in_index=[1, 2, 3], in_channels=[80, 160, 320]))
