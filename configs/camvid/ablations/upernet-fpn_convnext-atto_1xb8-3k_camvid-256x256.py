# Table 2 on CamVid, "FPN" (/4): "FPN+PPM" without the pyramid pooling
# module; predicts from the finest FPN level (stride 4).
_base_ = ['./upernet-nofusion_convnext-atto_1xb8-3k_camvid-256x256.py']
model = dict(decode_head=dict(pool_scales=()))
