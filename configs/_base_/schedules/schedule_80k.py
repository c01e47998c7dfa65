# SGD with poly decay for 80k iterations: schedule_160k.py, shorter
_base_ = ['./schedule_160k.py']
param_scheduler = [dict(_base_.param_scheduler[0], end=80000)]
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
