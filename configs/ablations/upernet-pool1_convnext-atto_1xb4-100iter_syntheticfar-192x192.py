# Ablation: pyramid pooling with the global scale only, (1,) instead of
# (1, 2, 3, 6).
_base_ = ['./upernet_convnext-atto_1xb4-100iter_syntheticfar-192x192.py']
model = dict(decode_head=dict(pool_scales=(1, )))
