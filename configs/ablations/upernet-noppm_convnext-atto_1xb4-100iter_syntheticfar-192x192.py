# Ablation: no pyramid pooling module (FPN with fusion); the bottleneck sees
# the coarsest level alone.
_base_ = ['./upernet_convnext-atto_1xb4-100iter_syntheticfar-192x192.py']
model = dict(decode_head=dict(pool_scales=()))
