# Ablation: no auxiliary FCN head on stage 3.
_base_ = ['./upernet_convnext-atto_1xb8-600iter_synthetic-96x96.py']
model = dict(auxiliary_head=None)
