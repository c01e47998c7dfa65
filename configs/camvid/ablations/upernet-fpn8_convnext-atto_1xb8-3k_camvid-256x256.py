# Table 2 on CamVid, "FPN (/8)": "FPN" over the three coarsest levels
# (strides 8, 16, 32), so it predicts from the stride-8 level. Without
# fusion the stride-8 FPN level does not depend on the stride-4 one, so this
# is "FPN" predicting one level higher, as the paper's row.
_base_ = ['./upernet-fpn_convnext-atto_1xb8-3k_camvid-256x256.py']
model = dict(decode_head=dict(in_index=[1, 2, 3], in_channels=[80, 160, 320]))
