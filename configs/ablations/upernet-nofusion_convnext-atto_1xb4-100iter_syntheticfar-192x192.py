# Ablation (paper's Table 2 "FPN+PPM"): no fusion of the pyramid levels; the
# head predicts from the finest FPN level alone.
_base_ = ['./upernet_convnext-atto_1xb4-100iter_syntheticfar-192x192.py']
model = dict(decode_head=dict(fusion=False))
