# Ablation (paper's Table 2 "FPN"): FPN alone, i.e. "FPN+PPM" without the
# pyramid pooling module.
_base_ = [
    './upernet-nofusion_convnext-atto_1xb4-100iter_syntheticfar-192x192.py'
]
model = dict(decode_head=dict(pool_scales=()))
