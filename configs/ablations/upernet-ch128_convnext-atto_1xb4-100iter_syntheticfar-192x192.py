# Ablation: decode head with 128 channels (the quick start's width) instead
# of 64.
_base_ = ['./upernet_convnext-atto_1xb4-100iter_syntheticfar-192x192.py']
model = dict(decode_head=dict(channels=128))
