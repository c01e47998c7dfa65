# Ablation: no auxiliary FCN head on stage 3.
_base_ = ['./upernet_convnext-atto_1xb4-100iter_syntheticfar-192x192.py']
model = dict(auxiliary_head=None)
