# SGD with poly decay for 20k iterations: schedule_160k.py, shorter
_base_ = ['./schedule_160k.py']
param_scheduler = [dict(_base_.param_scheduler[0], end=20000)]
train_cfg = dict(max_iters=20000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
