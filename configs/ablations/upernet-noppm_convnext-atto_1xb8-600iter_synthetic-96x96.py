# Ablation: no pyramid pooling module; the bottleneck sees the coarsest level
# alone.
_base_ = ['./upernet_convnext-atto_1xb8-600iter_synthetic-96x96.py']
model = dict(decode_head=dict(pool_scales=()))
