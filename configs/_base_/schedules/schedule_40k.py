# SGD with poly decay for 40k iterations: schedule_160k.py, shorter
_base_ = ['./schedule_160k.py']
param_scheduler = [dict(_base_.param_scheduler[0], end=40000)]
train_cfg = dict(max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
