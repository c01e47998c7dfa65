# Table 2 on CamVid, "FPN+PPM": no fusion of the pyramid levels; the head
# predicts from the finest FPN level (stride 4) alone (docs/ablations.md).
_base_ = ['../upernet_convnext-atto_1xb8-3k_camvid-256x256.py']
model = dict(decode_head=dict(fusion=False))
