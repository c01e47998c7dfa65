# Ablation: decode head with 512 channels (the published recipes' width)
# instead of 128.
_base_ = ['./upernet_convnext-atto_1xb8-600iter_synthetic-96x96.py']
model = dict(decode_head=dict(channels=512))
