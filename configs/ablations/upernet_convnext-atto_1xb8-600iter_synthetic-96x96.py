# Parent of the ablations: the quick start (configs/upernet_convnext.py) on a
# 600-iteration schedule. Each sibling config changes one thing by
# inheritance; train them all and tabulate with
#   python tools/ablate.py 'configs/ablations/*.py'
_base_ = ['../upernet_convnext.py']
max_iters = 600
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=100),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False,
         begin=100, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1),
    visualization=dict(draw=False))
