# Table 3 of the paper, row "O+P+S+M": objects, parts and scenes from the
# scenes source and materials from the materials source, batches drawn in
# proportion to the sources' sizes.
# Main stage only (400 iterations, as the parent's), no texture stage.
_base_ = ['../upernet-upp_convnext-atto_1xb8-700iter_unified-parsing-96x96.py']
model = dict(decode_head=dict(tasks=('object', 'part', 'scene', 'material')))
train_dataloader = dict(
    batch_sampler=dict(
        source_weights=dict(scenes=400, materials=300, textures=0), stages=[]))
train_cfg = dict(max_iters=400)
# no texture stage
custom_hooks = []
